import DabbaCatalog
import DabbaSchema
import Foundation

/// Where a typed event's payload comes from: `--data JSON`, `--file PATH` (`-` for standard input), or
/// `--example [NAME]` (an example the catalog declares for the event; the first one without a name).
enum PayloadSource: Sendable, Equatable {
    case data(String)
    case file(String)
    case example(String?)

    /// Reads and parses the payload.
    /// - Parameter event: The event type, for `--example`.
    /// - Returns: The payload as JSON.
    /// - Throws: ``CLIError``: invalid JSON (with the byte offset, and line and column), an unreadable file, an
    ///   unknown example.
    func payload(for event: EventSpec) throws -> JSONValue {
        switch self {
        case .data(let text):
            return try Self.parse(Data(text.utf8), origin: "--data")
        case .file(let path):
            let data: Data
            if path == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                do {
                    data = try Data(contentsOf: URL(fileURLWithPath: path))
                } catch {
                    let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
                    throw CLIError("cannot read --file \(path): \(reason)")
                }
            }
            return try Self.parse(data, origin: path == "-" ? "standard input (--file -)" : "--file \(path)")
        case .example(let name):
            guard let first = event.namedExamples.first else {
                throw CLIError(
                    "event type '\(event.type)' has no examples in the catalog (\(event.source)); "
                        + "pass the payload with --data JSON or --file PATH"
                )
            }
            guard let name, !name.isEmpty else { return first.payload }
            guard let example = event.namedExamples.first(where: { $0.name == name }) else {
                let names = event.namedExamples.map(\.name).joined(separator: ", ")
                throw CLIError("event type '\(event.type)' has no example '\(name)'; its examples: \(names)")
            }
            return example.payload
        }
    }

    /// Parses JSON text, explaining a syntax error with its byte offset, line and column.
    static func parse(_ data: Data, origin: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch let error as SchemaError {
            var message = "\(origin) is not valid JSON: \(error.message)"
            if let offset = error.byteOffset {
                let (line, column) = position(ofByte: offset, in: data)
                message += " (line \(line), column \(column))"
            }
            throw CLIError(message)
        }
    }

    /// The 1-based line and column (in bytes) of a byte offset.
    static func position(ofByte offset: Int, in data: Data) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for (index, byte) in data.prefix(offset).enumerated() where byte == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }
}

extension JSONValue {
    /// The value as Foundation objects, for ``Output/json(_:)``: integers stay integers.
    var foundationObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let flag): flag
        case .integer(let number): Int(number)
        case .double(let number): number.isFinite ? number : NSNull()
        case .string(let text): text
        case .array(let elements): elements.map(\.foundationObject)
        case .object(let object):
            Dictionary(object.map { ($0.key, $0.value.foundationObject) }, uniquingKeysWith: { _, last in last })
        }
    }
}
