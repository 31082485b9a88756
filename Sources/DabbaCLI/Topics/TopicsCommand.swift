import ArgumentParser
import DabbaCatalog
import Foundation

/// `dabba topics`: the catalog's topics, and making a cluster match them.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "List the catalog's topics, or plan and apply them on a cluster.",
        discussion: """
            The catalog is the directory of AsyncAPI documents given by --catalog (default: $\
            \(CatalogOptions.environmentVariable), else ./Topics); its topics include the retry and dead-letter \
            topics derived from each consumer group. See Docs/topics-cli.md.
            """,
        subcommands: [TopicsListCommand.self, TopicsPlanCommand.self, TopicsApplyCommand.self]
    )

    /// `--catalog DIR`, shared by the `topics` subcommands.
    struct CatalogOptions: ParsableArguments {
        /// The environment variable that names the catalog directory when `--catalog` is not given.
        static let environmentVariable = "DABBA_CATALOG"
        /// The catalog directory when neither `--catalog` nor the environment variable is given.
        static let defaultDirectory = "Topics"

        @Option(
            name: .customLong("catalog"),
            help: ArgumentHelp(
                "The catalog directory. Default: $\(environmentVariable), else ./\(defaultDirectory).",
                valueName: "dir"
            )
        )
        var catalog: String?

        func validate() throws {
            if let catalog, catalog.isEmpty { throw ValidationError("--catalog needs a directory") }
        }

        /// `--catalog`, else `$DABBA_CATALOG` (when not empty), else `Topics`.
        var directory: String {
            if let catalog { return catalog }
            if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable],
                !fromEnvironment.isEmpty
            {
                return fromEnvironment
            }
            return Self.defaultDirectory
        }

        /// Loads and checks the catalog. Every problem is printed to standard error as `error: file:line:column:
        /// message`.
        /// - Throws: ``CLIError`` for a missing directory; `ExitCode.failure` after printing the catalog's errors.
        func load() throws -> Catalog {
            let path = directory
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIError(
                    "catalog directory '\(path)' does not exist (pass --catalog DIR or set "
                        + "$\(Self.environmentVariable))"
                )
            }
            guard isDirectory.boolValue else {
                throw CLIError("--catalog must name a directory of *.asyncapi.yaml files; '\(path)' is a file")
            }
            do {
                return try Catalog.load(directory: URL(fileURLWithPath: path))
            } catch let failure as CatalogErrors {
                for error in failure.errors {
                    Output.note("error: \(error.line > 0 ? error.description : error.message)")
                }
                if failure.errors.count > 1 {
                    Output.note("error: the catalog in '\(path)' has \(failure.errors.count) errors")
                }
                throw ExitCode.failure
            }
        }
    }
}
