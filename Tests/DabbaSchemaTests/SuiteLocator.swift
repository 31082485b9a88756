import Foundation

/// Finds the JSON Schema Test Suite checkout on disk.
///
/// Order: the `DABBA_JSON_SCHEMA_SUITE` environment variable (the suite root
/// or its `tests/draft2020-12` folder), else the nearest ancestor directory of
/// this source file that has a sibling `shared/json-schema-test-suite` (the
/// repository is cloned at `X/main` with the suite at `X/shared`, locally and
/// in CI). Symlinked checkouts are searched both as written and resolved.
enum SuiteLocator {
    static let environmentVariable = "DABBA_JSON_SCHEMA_SUITE"

    /// The `tests/draft2020-12` directory, or a description of where it was
    /// looked for.
    static let draft202012: Result<URL, LocatorError> = locate()

    struct LocatorError: Error, CustomStringConvertible {
        let description: String
    }

    private static func locate(filePath: String = #filePath) -> Result<URL, LocatorError> {
        if let configured = ProcessInfo.processInfo.environment[environmentVariable], !configured.isEmpty {
            let url = URL(fileURLWithPath: configured)
            if let directory = draftDirectory(inSuiteRoot: url) ?? draftDirectory(url) {
                return .success(directory)
            }
            // An explicit setting that is wrong must not silently fall back.
            return .failure(LocatorError(description:
                "\(environmentVariable)=\(configured) contains neither tests/draft2020-12/type.json nor type.json"))
        }
        var searched: [String] = []
        let source = URL(fileURLWithPath: filePath)
        let resolved = source.resolvingSymlinksInPath()
        for start in resolved.path == source.path ? [source] : [source, resolved] {
            var directory = start.deletingLastPathComponent()
            while true {
                let suite = directory.appendingPathComponent("shared/json-schema-test-suite")
                searched.append(suite.path)
                if let found = draftDirectory(inSuiteRoot: suite) { return .success(found) }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return .failure(LocatorError(description:
            "JSON Schema Test Suite not found. Clone https://github.com/json-schema-org/JSON-Schema-Test-Suite "
            + "to <parent of the repository>/shared/json-schema-test-suite or set \(environmentVariable). Searched: "
            + searched.joined(separator: ", ")))
    }

    private static func draftDirectory(inSuiteRoot root: URL) -> URL? {
        draftDirectory(root.appendingPathComponent("tests/draft2020-12"))
    }

    private static func draftDirectory(_ candidate: URL) -> URL? {
        FileManager.default.fileExists(atPath: candidate.appendingPathComponent("type.json").path) ? candidate : nil
    }
}
