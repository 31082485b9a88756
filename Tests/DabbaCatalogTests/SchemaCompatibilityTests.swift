import DabbaCatalog
import DabbaSchema
import Foundation
import Testing

/// One schema change with its expected verdict in each mode (true = compatible).
struct SchemaChange: CustomTestStringConvertible, Sendable {
    var name: String
    var old: String
    var new: String
    var backward: Bool
    var forward: Bool
    var full: Bool { backward && forward }
    var testDescription: String { name }
}

/// An order payload schema; `properties`, `required` and `closed` vary per case.
private func orderSchema(
    id: String = #"{"type": "string", "pattern": "^o_[0-9]+$"}"#,
    amount: String = #"{"type": "integer", "minimum": 0, "maximum": 100000}"#,
    status: String = #"{"type": "string", "enum": ["new", "paid"]}"#,
    extra: String = #", "note": {"type": "string", "maxLength": 200}"#,
    required: String = #""id", "amount", "status""#,
    closed: Bool = false
) -> String {
    let additional = closed ? #", "additionalProperties": false"# : ""
    return """
        {"type": "object", "required": [\(required)]\(additional),
         "properties": {"id": \(id), "amount": \(amount), "status": \(status)\(extra)}}
        """
}

let schemaChanges: [SchemaChange] = [
    SchemaChange(name: "unchanged", old: orderSchema(), new: orderSchema(), backward: true, forward: true),
    SchemaChange(
        name: "add optional field (open schema)", old: orderSchema(),
        new: orderSchema(extra: #", "note": {"type": "string", "maxLength": 200}, "tip": {"type": "integer"}"#),
        backward: true, forward: true
    ),
    SchemaChange(
        name: "add optional field (additionalProperties: false)", old: orderSchema(closed: true),
        new: orderSchema(extra: #", "note": {"type": "string", "maxLength": 200}, "tip": {"type": "integer"}"#, closed: true),
        backward: true, forward: false
    ),
    SchemaChange(
        name: "add required field without default", old: orderSchema(),
        new: orderSchema(extra: #", "note": {"type": "string", "maxLength": 200}, "currency": {"type": "string"}"#, required: #""id", "amount", "status", "currency""#),
        backward: false, forward: true
    ),
    SchemaChange(
        name: "add required field with default", old: orderSchema(),
        new: orderSchema(extra: #", "note": {"type": "string", "maxLength": 200}, "currency": {"type": "string", "default": "EUR"}"#, required: #""id", "amount", "status", "currency""#),
        backward: true, forward: true
    ),
    SchemaChange(name: "remove optional field (open schema)", old: orderSchema(), new: orderSchema(extra: ""), backward: true, forward: true),
    SchemaChange(
        name: "remove optional field (additionalProperties: false)", old: orderSchema(closed: true),
        new: orderSchema(extra: "", closed: true), backward: false, forward: true
    ),
    SchemaChange(
        name: "remove required field", old: orderSchema(),
        new: """
            {"type": "object", "required": ["id", "status"],
             "properties": {"id": {"type": "string", "pattern": "^o_[0-9]+$"}, "status": {"type": "string", "enum": ["new", "paid"]}, "note": {"type": "string", "maxLength": 200}}}
            """,
        backward: true, forward: false
    ),
    SchemaChange(
        name: "make optional field required", old: orderSchema(),
        new: orderSchema(required: #""id", "amount", "status", "note""#), backward: false, forward: true
    ),
    SchemaChange(
        name: "make required field optional", old: orderSchema(),
        new: orderSchema(required: #""id", "status""#), backward: true, forward: false
    ),
    SchemaChange(
        name: "widen type integer to number", old: orderSchema(),
        new: orderSchema(amount: #"{"type": "number", "minimum": 0, "maximum": 100000}"#), backward: true, forward: false
    ),
    SchemaChange(
        name: "narrow type number to integer", old: orderSchema(amount: #"{"type": "number", "minimum": 0, "maximum": 100000}"#),
        new: orderSchema(), backward: false, forward: true
    ),
    SchemaChange(
        name: "allow null", old: orderSchema(),
        new: orderSchema(extra: #", "note": {"type": ["string", "null"], "maxLength": 200}"#), backward: true, forward: false
    ),
    SchemaChange(
        name: "rename field", old: orderSchema(),
        new: """
            {"type": "object", "required": ["orderId", "amount", "status"],
             "properties": {"orderId": {"type": "string", "pattern": "^o_[0-9]+$"}, "amount": {"type": "integer", "minimum": 0, "maximum": 100000}, "status": {"type": "string", "enum": ["new", "paid"]}, "note": {"type": "string", "maxLength": 200}}}
            """,
        backward: false, forward: false
    ),
    SchemaChange(
        name: "add enum value", old: orderSchema(),
        new: orderSchema(status: #"{"type": "string", "enum": ["new", "paid", "refunded"]}"#), backward: true, forward: false
    ),
    SchemaChange(
        name: "remove enum value", old: orderSchema(),
        new: orderSchema(status: #"{"type": "string", "enum": ["new"]}"#), backward: false, forward: true
    ),
    // Regular-language inclusion is not decided: any changed pattern is breaking where the reader has one.
    SchemaChange(
        name: "tighten pattern", old: orderSchema(),
        new: orderSchema(id: #"{"type": "string", "pattern": "^o_[0-9]{6}$"}"#), backward: false, forward: false
    ),
    SchemaChange(
        name: "add pattern", old: orderSchema(id: #"{"type": "string"}"#), new: orderSchema(),
        backward: false, forward: true
    ),
    SchemaChange(
        name: "remove pattern", old: orderSchema(), new: orderSchema(id: #"{"type": "string"}"#),
        backward: true, forward: false
    ),
    SchemaChange(
        name: "raise minimum", old: orderSchema(),
        new: orderSchema(amount: #"{"type": "integer", "minimum": 1, "maximum": 100000}"#), backward: false, forward: true
    ),
    SchemaChange(
        name: "raise maximum", old: orderSchema(),
        new: orderSchema(amount: #"{"type": "integer", "minimum": 0, "maximum": 500000}"#), backward: true, forward: false
    ),
    SchemaChange(
        name: "lower maxLength", old: orderSchema(),
        new: orderSchema(extra: #", "note": {"type": "string", "maxLength": 100}"#), backward: false, forward: true
    ),
    SchemaChange(
        name: "additionalProperties true to false", old: orderSchema(), new: orderSchema(closed: true),
        backward: false, forward: true
    ),
    SchemaChange(
        name: "additionalProperties false to true", old: orderSchema(closed: true), new: orderSchema(),
        backward: true, forward: false
    ),
]

@Suite("Schema compatibility")
struct SchemaCompatibilityTests {
    @Test("verdict per mode", arguments: schemaChanges)
    func verdicts(change: SchemaChange) throws {
        let old = SchemaInDocument(try JSONValue.parse(change.old))
        let new = SchemaInDocument(try JSONValue.parse(change.new))
        let backward = SchemaCompatibility.check(old: old, new: new, mode: .backward)
        let forward = SchemaCompatibility.check(old: old, new: new, mode: .forward)
        let full = SchemaCompatibility.check(old: old, new: new, mode: .full)
        #expect(backward.isEmpty == change.backward, "backward: \(backward)")
        #expect(forward.isEmpty == change.forward, "forward: \(forward)")
        #expect(full.isEmpty == change.full, "full: \(full)")
        #expect(full.count == backward.count + forward.count)
        #expect(SchemaCompatibility.check(old: old, new: new, mode: .unchecked).isEmpty)
    }

    @Test("issues name the direction, the field and the rule")
    func issueText() throws {
        let old = SchemaInDocument(try JSONValue.parse(orderSchema()))
        let new = SchemaInDocument(
            try JSONValue.parse(
                orderSchema(
                    extra: #", "note": {"type": "string", "maxLength": 200}, "currency": {"type": "string"}"#,
                    required: #""id", "amount", "status", "currency""#
                )
            )
        )
        let issues = SchemaCompatibility.check(old: old, new: new, mode: .full)
        #expect(
            issues.map(\.description) == [
                "backward: /currency: the reader requires 'currency' (without a default); the writer does not write it (required)"
            ]
        )
    }

    @Test("references resolve inside each version's own document")
    func references() throws {
        let oldDocument = try JSONValue.parse(
            #"{"schemas": {"Money": {"type": "object", "required": ["minor"], "properties": {"minor": {"type": "integer"}}}}}"#
        )
        let newDocument = try JSONValue.parse(
            #"{"schemas": {"Amount": {"type": "object", "required": ["minor"], "properties": {"minor": {"type": "number"}}}}}"#
        )
        let old = SchemaInDocument(try JSONValue.parse(##"{"$ref": "#/schemas/Money"}"##), in: oldDocument)
        let new = SchemaInDocument(try JSONValue.parse(##"{"$ref": "#/schemas/Amount"}"##), in: newDocument)
        #expect(SchemaCompatibility.check(old: old, new: new, mode: .backward).isEmpty)
        let forward = SchemaCompatibility.check(old: old, new: new, mode: .forward)
        #expect(forward.map(\.path) == ["/minor"])
        #expect(forward.map(\.rule) == ["type"])
    }

    @Test("catalogs: added types are compatible, removed ones break backward, x-dabba-compatibility overrides the default")
    func catalogs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func catalog(_ name: String, _ document: String) throws -> Catalog {
            let folder = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try document.write(to: folder.appendingPathComponent("shop.asyncapi.yaml"), atomically: true, encoding: .utf8)
            return try Catalog.load(directory: folder)
        }
        let old = try catalog(
            "old",
            orderDocument(
                payloadSchema: [
                    "        type: object", "        required: [orderId]", "        properties:",
                    "          orderId: {type: string}", "          status: {type: string, enum: [new, paid]}",
                ].joined(separator: "\n")
            )
        )
        let widened = [
            "        type: object", "        required: [orderId]", "        properties:",
            "          orderId: {type: string}", "          status: {type: string, enum: [new, paid, refunded]}",
        ].joined(separator: "\n")
        let new = try catalog("new", orderDocument(payloadSchema: widened))
        let forwardOnly = try catalog(
            "forward", orderDocument(payloadSchema: widened, messageExtras: "      x-dabba-compatibility: forward\n")
        )

        let backward = SchemaCompatibility.compare(old: old, new: new, defaultMode: .backward)
        #expect(backward.map(\.change) == [.changed])
        #expect(backward.allSatisfy { $0.isCompatible })
        let forward = SchemaCompatibility.compare(old: old, new: new, defaultMode: .forward)
        #expect(forward.first?.issues.map(\.rule) == ["enum"])
        let declared = SchemaCompatibility.compare(old: old, new: forwardOnly, defaultMode: .backward)
        #expect(declared.first?.mode == .forward)
        #expect(declared.first?.modeDeclared == true)
        #expect(declared.first?.isCompatible == false)

        let rekeyed = try catalog(
            "rekeyed",
            orderDocument(
                payloadSchema: [
                    "        type: object", "        required: [orderId, customerId]", "        properties:",
                    "          orderId: {type: string}", "          customerId: {type: string}",
                    "          status: {type: string, enum: [new, paid]}",
                ].joined(separator: "\n"),
                messageExtras: "      x-dabba-key: /customerId\n"
            )
        )
        let keyed = try catalog(
            "keyed",
            orderDocument(
                payloadSchema: [
                    "        type: object", "        required: [orderId]", "        properties:",
                    "          orderId: {type: string}", "          status: {type: string, enum: [new, paid]}",
                ].joined(separator: "\n"),
                messageExtras: "      x-dabba-key: /orderId\n"
            )
        )
        let keyChange = SchemaCompatibility.compare(old: keyed, new: rekeyed, defaultMode: .forward)
        #expect(keyChange.first?.issues.map(\.description) == [
            "forward: /customerId: the partition key changed from /orderId to /customerId: events of one entity land on other partitions than before, so their order is lost across the change (x-dabba-key)"
        ])
        #expect(SchemaCompatibility.compare(old: keyed, new: rekeyed, defaultMode: .unchecked).allSatisfy { $0.isCompatible })

        let renamed = try catalog(
            "renamed", orderDocument().replacingOccurrences(of: "name: shop.order.placed", with: "name: shop.order.created")
        )
        for mode in [CompatibilityMode.backward, .forward, .full] {
            let results = SchemaCompatibility.compare(old: old, new: renamed, defaultMode: mode)
            let added = try #require(results.first { $0.eventType == "shop.order.created" })
            let removed = try #require(results.first { $0.eventType == "shop.order.placed" })
            #expect(added.change == .added)
            #expect(added.isCompatible)
            #expect(removed.change == .removed)
            #expect(removed.isCompatible == (mode == .forward))
        }
    }
}
