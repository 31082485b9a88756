import DabbaFuzzTargets
import Foundation
import Testing

/// The fuzzer's inputs stay small (a few KB), so it cannot reach what only a large input does: nesting deep enough
/// to exhaust a thread's stack in a recursive reader. Each reader of untrusted bytes gets 100,000 levels here.
@Suite("Deeply nested input is rejected, not a stack overflow")
struct DeepNestingTests {
    static let levels = 100_000

    static func nested(_ open: String, _ close: String, inside prefix: String = "", _ suffix: String = "") -> [UInt8] {
        Array((prefix + String(repeating: open, count: levels) + String(repeating: close, count: levels) + suffix).utf8)
    }

    @Test("fast JSON: a payload nested 100,000 deep")
    func fastJSON() throws {
        try FuzzTarget.fastJSON.run(Self.nested("[", "]"))
        try FuzzTarget.fastJSON.run(Self.nested("{\"a\":", "}"))
        try FuzzTarget.fastJSON.run(Self.nested("[", "]", inside: "{\"sequence\":1,\"from\":\"a\",\"unknown\":", "}"))
        // Recursive types, through `Codable` and reading themselves.
        try FuzzTarget.fastJSON.run(Self.nested("{\"children\":[", "]}"))
        try FuzzTarget.fastJSON.run(Self.nested("{\"text\":\"a\",\"replies\":[", "]}"))
    }

    @Test("JSON parser and schema: a document nested 100,000 deep")
    func jsonSchema() throws {
        try FuzzTarget.jsonSchema.run(Self.nested("[", "]"))
    }

    @Test("CloudEvents: a structured-mode value nested 100,000 deep")
    func cloudEvents() throws {
        let header = Array("content-type: application/cloudevents+json\n\n".utf8)
        try FuzzTarget.cloudEvents.run(header + Self.nested("{\"data\":", "}"))
        let binary = Array("ce_specversion: 1.0\nce_id: 1\nce_source: /s\nce_type: fuzz.ping\n\n".utf8)
        try FuzzTarget.cloudEvents.run(binary + Self.nested("[", "]", inside: "{\"sequence\":1,\"x\":", "}"))
    }

    @Test("catalog: a YAML document nested 100,000 deep")
    func catalog() throws {
        try FuzzTarget.catalog.run(Self.nested("[", "]"))
        try FuzzTarget.catalog.run(Self.nested("{a: ", "}"))
    }

    @Test("dead letters: a value nested 100,000 deep")
    func deadLetters() throws {
        try FuzzTarget.deadLetters.run(Array("ce_type: x\n\n".utf8) + Self.nested("[", "]"))
    }
}
