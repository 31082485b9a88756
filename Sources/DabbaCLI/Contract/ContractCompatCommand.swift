import ArgumentParser
import DabbaCatalog
import Foundation

/// `dabba contract compat --against REF`: schema evolution of every event type since a git revision.
struct ContractCompatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compat",
        abstract: "Compare each event's payload schema with the same schema at a git revision.",
        discussion: """
            Loads the catalog at GIT_REF (git show REF:<catalog>/<file>) and the working tree's, and checks every \
            event type with the Schema Registry meanings: backward = new consumers read old events, forward = old \
            consumers read new events, full = both, none = no check. An event's own x-dabba-compatibility overrides \
            --mode. New event types are compatible; a removed event type breaks backward and full (its old events \
            stay on the topic). Prints a table, then one "error:" line per breaking change naming the event type, \
            the direction, the field and the rule. Exit codes: 0 compatible, 1 breaking changes or an error (a \
            revision that does not exist is an error, never a silent pass).
            """
    )

    @Option(name: .customLong("against"), help: ArgumentHelp("The git revision to compare with.", valueName: "git-ref"))
    var against: String

    @Option(help: ArgumentHelp("backward, forward, full or none (default backward).", valueName: "mode"))
    var mode: String = "backward"

    @OptionGroup var catalogOptions: TopicsCommand.CatalogOptions

    func validate() throws {
        guard CompatibilityMode(rawValue: mode) != nil else {
            throw ValidationError("--mode must be backward, forward, full or none, not '\(mode)'")
        }
        guard !against.isEmpty else { throw ValidationError("--against needs a git revision") }
    }

    func run() async throws {
        let defaultMode = CompatibilityMode(rawValue: mode) ?? .backward
        let directory = CatalogDirectory.resolve(catalogOptions.catalog)
        let current = try directory.load()
        let previous = try await GitCatalog.load(directory: directory.path, at: against)
        guard let previous else {
            Output.line("No catalog in \(directory.path) at \(against): every event type is new.")
            return
        }
        let results = SchemaCompatibility.compare(old: previous, new: current, defaultMode: defaultMode)
        var table = TextTable(header: ["EVENT TYPE", "CHANGE", "MODE", "RESULT"])
        for result in results {
            let mode = result.mode.rawValue + (result.modeDeclared ? " (x-dabba-compatibility)" : "")
            let verdict = result.mode == .unchecked ? "not checked" : (result.isCompatible ? "ok" : "BREAKING")
            table.rows.append([result.eventType, result.change.rawValue, mode, verdict])
        }
        for line in table.lines { Output.line(line) }
        let breaking = results.filter { !$0.isCompatible }
        guard !breaking.isEmpty else {
            Output.line(
                "Compatible with \(against): \(results.count) event type\(results.count == 1 ? "" : "s") checked.")
            return
        }
        for result in breaking {
            for issue in result.issues { Output.note("error: \(result.eventType): \(issue)") }
        }
        let count = breaking.flatMap(\.issues).count
        throw CLIError(
            "\(count) breaking change\(count == 1 ? "" : "s") since \(against) in \(breaking.count) event type\(breaking.count == 1 ? "" : "s")"
        )
    }
}

/// A catalog as it was at a git revision.
enum GitCatalog {
    /// Loads the catalog directory as it was at a revision.
    /// - Parameters:
    ///   - directory: The catalog directory, relative to the current directory (inside a git work tree).
    ///   - revision: The git revision.
    /// - Returns: The catalog, or `nil` when the directory had no catalog files at that revision.
    /// - Throws: ``CLIError`` when git fails, the revision does not exist, or that catalog is invalid.
    static func load(directory: String, at revision: String) async throws -> Catalog? {
        let verify = try await ChildProcess.run("git", ["rev-parse", "--verify", "--quiet", "\(revision)^{commit}"])
        guard verify.status == 0 else {
            let inside = try await ChildProcess.run("git", ["rev-parse", "--is-inside-work-tree"])
            if inside.status != 0 {
                throw CLIError("not inside a git work tree: --against needs the catalog's git history")
            }
            throw CLIError(
                "git revision '\(revision)' does not exist here (in a shallow clone, fetch more history, e.g. `git fetch --deepen=1`); nothing was compared"
            )
        }
        let folder = directory.hasSuffix("/") ? directory : directory + "/"
        let listing = try await ChildProcess.run("git", ["ls-tree", "--name-only", revision, "--", folder])
        guard listing.status == 0 else {
            throw CLIError(
                "git ls-tree \(revision) -- \(folder) failed: \(listing.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        let files = listing.stdout.split(separator: "\n").map(String.init)
            .filter { $0.hasSuffix(".asyncapi.yaml") || $0.hasSuffix(".asyncapi.yml") }
        guard !files.isEmpty else { return nil }
        let snapshot = FileManager.default.temporaryDirectory
            .appendingPathComponent("dabba-compat-\(UUID().uuidString)")
            .appendingPathComponent(URL(fileURLWithPath: directory).lastPathComponent)
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: snapshot.deletingLastPathComponent()) }
        for file in files {
            // `REF:./path` is relative to the current directory, like the ls-tree output.
            let shown = try await ChildProcess.run("git", ["show", "\(revision):./\(file)"])
            guard shown.status == 0 else {
                throw CLIError(
                    "git show \(revision):\(file) failed: \(shown.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            let name = URL(fileURLWithPath: file).lastPathComponent
            try Data(shown.stdout.utf8).write(to: snapshot.appendingPathComponent(name))
        }
        do {
            return try Catalog.load(directory: snapshot, relativeTo: snapshot.deletingLastPathComponent())
        } catch let failure as CatalogErrors {
            throw CLIError(
                "the catalog at \(revision) is invalid, so it cannot be compared:\n"
                    + failure.errors.map { "error: \(revision): \($0)" }.joined(separator: "\n")
            )
        }
    }
}
