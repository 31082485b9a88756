@_exported import DabbaEvents

/// Makes a struct (or a raw-value enum) ``DabbaEvents/FastJSONDecodable``, and ``DabbaEvents/FastJSONEncodable`` when
/// it declares `Codable`, `Encodable` or `Event`: the JSON codec then reads and writes its payloads straight from and
/// to bytes instead of through `Codable`'s `Decoder` and `Encoder`, several times faster, to the same value and the
/// same bytes.
///
/// The generated `encode(fastJSON:)` writes what the synthesized `Encodable` conformance writes (`let` properties with
/// an initial value included, `nil` optionals left out), in `JSONEncoder`'s key order. A type with a custom
/// `encode(to:)` in its declaration gets no encoder and keeps encoding through it.
///
/// The generated `init(fastJSON:)` reads exactly what the synthesized `Decodable` conformance reads: every stored
/// property (or those a nested `CodingKeys` enum lists, under its keys), optionals absent or `null` as nil, `let`
/// properties with an initial value skipped. Anything it does not read itself (a missing or repeated key, an
/// escaped string, a value of another shape) sends the payload to `Codable`, so errors and edge cases stay
/// Foundation's. Keep the type's `Codable` conformance synthesized: a custom `init(from:)` in the declaration is a
/// compile error; one written in a separate extension is not seen, and the two would disagree.
///
/// ```swift
/// import DabbaEventMacros
///
/// @FastJSON
/// struct OrderPlaced: Event {
///     static let eventType = "food.order.placed"
///     var orderID: String
///     var lines: [Line]        // Line is @FastJSON too, or any Codable type
///     var placedAt: Date
///     var partitionKey: String? { orderID }
/// }
/// ```
@attached(
    extension, conformances: FastJSONDecodable, FastJSONEncodable, names: named(init(fastJSON:)), named(encode(fastJSON:))
)
public macro FastJSON() = #externalMacro(module: "DabbaEventMacrosPlugin", type: "FastJSONMacro")
