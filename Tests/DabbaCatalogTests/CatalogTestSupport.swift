import DabbaCatalog
import Foundation
import Testing

/// Where the test fixtures and the repository's catalog are.
enum TestPaths {
    /// The `Fixtures` folder copied into the test bundle.
    static func fixtures() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    }

    /// A fixture case folder, for example `duplicate-topic`.
    static func fixture(_ name: String) throws -> URL {
        try fixtures().appendingPathComponent(name)
    }

    /// The repository's `Topics/` folder, found by walking up from this source file.
    static func repositoryTopics(from file: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: file).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Topics")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("payments.asyncapi.yaml").path) {
                return candidate
            }
            directory.deleteLastPathComponent()
        }
        throw TestSupportError("no Topics/payments.asyncapi.yaml above \(file)")
    }
}

struct TestSupportError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Loads a fixture case folder that must fail, with paths relative to the `Fixtures` folder.
func loadFailure(_ fixture: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [CatalogError] {
    do {
        let catalog = try Catalog.load(directory: TestPaths.fixture(fixture), relativeTo: TestPaths.fixtures())
        Issue.record(
            "expected \(fixture) to fail, but it loaded \(catalog.allTopics.count) topics",
            sourceLocation: sourceLocation
        )
        return []
    } catch let failure as CatalogErrors {
        return failure.errors
    }
}

/// The 1-based line of a fixture file containing `snippet`: the only such line, or the given occurrence
/// (counting from 1).
func line(of snippet: String, in fixturePath: String, occurrence: Int? = nil) throws -> Int {
    let url = try TestPaths.fixtures().appendingPathComponent(fixturePath)
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    let matches = lines.indices.filter { lines[$0].contains(snippet) }
    if let occurrence {
        guard occurrence >= 1, occurrence <= matches.count else {
            throw TestSupportError("'\(snippet)' appears \(matches.count) times in \(fixturePath)")
        }
        return matches[occurrence - 1] + 1
    }
    guard matches.count == 1, let index = matches.first else {
        throw TestSupportError("'\(snippet)' appears \(matches.count) times in \(fixturePath)")
    }
    return index + 1
}

/// The 1-based column where `snippet` starts on its line.
func column(of snippet: String, in fixturePath: String) throws -> Int {
    let url = try TestPaths.fixtures().appendingPathComponent(fixturePath)
    let text = try String(contentsOf: url, encoding: .utf8)
    guard let lineText = text.split(separator: "\n").first(where: { $0.contains(snippet) }),
        let range = lineText.range(of: snippet)
    else { throw TestSupportError("'\(snippet)' not in \(fixturePath)") }
    return lineText.unicodeScalars.distance(from: lineText.unicodeScalars.startIndex, to: range.lowerBound) + 1
}
