import DabbaSchema
import Foundation
import Testing

/// One file of the JSON Schema Test Suite and how to run it.
struct SuiteFile: Sendable, CustomTestStringConvertible {
    /// Path relative to `tests/draft2020-12`.
    let path: String
    var options = JSONSchema.Options()

    var testDescription: String {
        options.assertFormat ? path : "\(path) (format as annotation)"
    }

    /// The keyword files this module claims to support, run in full.
    static let claimed: [SuiteFile] = [
        "type.json", "properties.json", "required.json", "additionalProperties.json",
        "enum.json", "const.json", "items.json", "prefixItems.json", "minItems.json",
        "maxItems.json", "uniqueItems.json", "minimum.json", "maximum.json",
        "exclusiveMinimum.json", "exclusiveMaximum.json", "multipleOf.json",
        "minLength.json", "maxLength.json", "pattern.json", "ref.json", "oneOf.json",
        "anyOf.json", "allOf.json", "not.json", "patternProperties.json",
        "propertyNames.json", "minProperties.json", "maxProperties.json",
        "dependentRequired.json", "boolean_schema.json", "defs.json",
        // We assert date-time (a documented deviation from the annotation-only default).
        "optional/format/date-time.json",
    ].map { SuiteFile(path: $0) }

    /// Files for keywords supported beyond the original claim, plus checks of
    /// the format-as-annotation option and some optional behaviour.
    static let additional: [SuiteFile] = [
        "anchor.json", "if-then-else.json", "contains.json", "minContains.json",
        "maxContains.json", "dependentSchemas.json", "infinite-loop-detection.json",
        "default.json", "optional/bignum.json", "optional/float-overflow.json",
        "optional/id.json", "optional/anchor.json", "optional/no-schema.json",
        "optional/non-bmp-regex.json", "optional/ecmascript-regex.json", "content.json",
    ].map { SuiteFile(path: $0) } + [
        // With assertion off, format must behave as a pure annotation.
        SuiteFile(path: "format.json", options: JSONSchema.Options(assertFormat: false)),
    ]
}

/// Runs suite files case by case; each file is reported as its own test.
@Suite("JSON Schema Test Suite, draft 2020-12")
struct OfficialSuiteTests {
    @Test("claimed keyword file", arguments: SuiteFile.claimed)
    func claimedFile(_ file: SuiteFile) throws {
        try run(file)
    }

    @Test("additional file", arguments: SuiteFile.additional)
    func additionalFile(_ file: SuiteFile) throws {
        try run(file)
    }

    @Test("skip list is short, explained and limited to claimed files")
    func skipListIsDocumented() {
        let claimedPaths = Set(SuiteFile.claimed.map(\.path))
        for entry in SuiteSkipList.entries {
            #expect(!entry.reason.isEmpty, "\(entry.file) › \(entry.group) has no reason")
            #expect(claimedPaths.contains(entry.file), "\(entry.file) is not a claimed file")
        }
        print("[JSON Schema Test Suite] skip list: \(SuiteSkipList.entries.count) group(s) across "
            + "\(Set(SuiteSkipList.entries.map(\.file)).count) file(s)")
    }

    private func run(_ file: SuiteFile) throws {
        let directory: URL
        switch SuiteLocator.draft202012 {
        case .success(let found):
            directory = found
        case .failure(let error):
            Issue.record(Comment(rawValue: error.description))
            return
        }
        let data = try Data(contentsOf: directory.appendingPathComponent(file.path))
        let groups = try #require(try JSONValue.parse(data).arrayValue, "\(file.path) is not an array of groups")

        var casesRun = 0
        var casesSkipped = 0
        var skippedGroups: Set<String> = []
        for group in groups {
            let description = group["description"]?.stringValue ?? "<no description>"
            let tests = group["tests"]?.arrayValue ?? []
            if SuiteSkipList.reason(file: file.path, group: description) != nil {
                casesSkipped += tests.count
                skippedGroups.insert(description)
                continue
            }
            let schemaValue = try #require(group["schema"], "\(file.path) › \(description): no schema")
            let schema: JSONSchema
            do {
                schema = try JSONSchema(schemaValue, options: file.options)
            } catch {
                Issue.record("\(file.path) › \(description): schema did not compile: \(error)")
                continue
            }
            for test in tests {
                let name = test["description"]?.stringValue ?? "<no description>"
                guard let expected = test["valid"]?.boolValue else {
                    Issue.record("\(file.path) › \(description) › \(name): no boolean 'valid'")
                    continue
                }
                let instance = test["data"] ?? .null
                let violations = schema.validate(instance)
                #expect(
                    violations.isEmpty == expected,
                    "\(file.path) › \(description) › \(name): expected \(expected ? "valid" : "invalid"), violations: \(violations)")
                #expect(
                    schema.isValid(instance) == expected,
                    "\(file.path) › \(description) › \(name): isValid disagrees (expected \(expected))")
                casesRun += 1
            }
        }
        for entry in SuiteSkipList.entries(for: file.path) where !skippedGroups.contains(entry.group) {
            Issue.record("stale skip-list entry: \(entry.file) › \(entry.group)")
        }
        let skippedNote = skippedGroups.isEmpty
            ? ""
            : " — skipped \(casesSkipped) case(s) in \(skippedGroups.count) group(s): "
                + skippedGroups.sorted().map { "'\($0)' (\(SuiteSkipList.reason(file: file.path, group: $0) ?? ""))" }.joined(separator: "; ")
        print("[JSON Schema Test Suite] \(file.testDescription): \(casesRun) case(s) run\(skippedNote)")
    }
}
