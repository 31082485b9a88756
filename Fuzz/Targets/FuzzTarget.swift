/// One fuzz target: what it reads, the body run on each input, and a generator of structured inputs.
///
/// The body is the one place a target's checks live: `dabba-fuzz` runs it under libFuzzer (`make fuzz`) and
/// `DabbaFuzzTests` runs it on seeded random inputs, the saved corpus and every input that once failed. A body never
/// traps on any input; it throws ``FuzzFailure`` when a property does not hold (two decoders disagree, a value does
/// not survive a round trip), which the libFuzzer driver turns into a crash it saves and the tests into an issue.
public struct FuzzTarget: Sendable {
    /// The name used on the command line and as the corpus folder (`Tests/Fixtures/fuzz/<name>/`).
    public let name: String
    /// What the input is, in a few words (for `dabba-fuzz --list`).
    public let summary: String
    /// Runs the checks on one input.
    public let run: @Sendable (_ input: [UInt8]) throws -> Void
    /// A structured input from the generator (valid-looking, then possibly mutated), for the seeded pass.
    public let generate: @Sendable (_ random: inout FuzzRandom) -> [UInt8]
    /// Fragments worth inserting into inputs: the seeded pass's mutations use them, and `make fuzz` hands them to
    /// libFuzzer as its dictionary.
    public let tokens: [String]

    /// Creates a target.
    /// - Parameters:
    ///   - name: The name.
    ///   - summary: What the input is.
    ///   - run: The checks.
    ///   - generate: The input generator.
    ///   - tokens: Fragments worth inserting into inputs.
    public init(
        name: String,
        summary: String,
        run: @escaping @Sendable (_ input: [UInt8]) throws -> Void,
        generate: @escaping @Sendable (_ random: inout FuzzRandom) -> [UInt8],
        tokens: [String]
    ) {
        self.name = name
        self.summary = summary
        self.run = run
        self.generate = generate
        self.tokens = tokens
    }

    /// The tokens as a libFuzzer dictionary (`-dict=`): one quoted entry per line, bytes outside printable ASCII,
    /// quotes and backslashes as `\xHH`.
    public var dictionary: String {
        tokens.map { token in
            let escaped = token.utf8.map { byte -> String in
                let printable = byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                return printable
                    ? String(UnicodeScalar(byte)) : "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
            return "\"" + escaped.joined() + "\""
        }.joined(separator: "\n") + "\n"
    }

    /// Every target, in `make fuzz` order.
    public static let all: [FuzzTarget] = [
        .cloudEvents, .fastJSON, .jsonSchema, .rfc3339, .catalog, .deadLetters,
    ]

    /// The target with this name, or nil.
    /// - Parameter name: The target's name.
    /// - Returns: The target.
    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// A property that did not hold on an input (not a crash: crashes are what the fuzzer looks for on its own).
public struct FuzzFailure: Error, CustomStringConvertible {
    /// What did not hold.
    public let description: String

    /// Creates a failure.
    /// - Parameter description: What did not hold, with the values involved.
    public init(_ description: String) {
        self.description = description
    }
}

/// Throws a ``FuzzFailure`` with `message` unless `condition` holds.
/// - Parameters:
///   - condition: The property.
///   - message: What did not hold, made only on failure.
/// - Throws: ``FuzzFailure``.
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw FuzzFailure(message()) }
}
