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
            \(CatalogDirectory.environmentVariable), else ./Topics); its topics include the retry and dead-letter \
            topics derived from each consumer group. See Docs/topics-cli.md.
            """,
        subcommands: [TopicsListCommand.self, TopicsPlanCommand.self, TopicsApplyCommand.self]
    )

    /// `--catalog DIR`, shared by the `topics` subcommands.
    struct CatalogOptions: ParsableArguments {
        @Option(
            name: .customLong("catalog"),
            help: ArgumentHelp(
                "The catalog directory. Default: $\(CatalogDirectory.environmentVariable), else "
                    + "./\(CatalogDirectory.defaultPath).",
                valueName: "dir"
            )
        )
        var catalog: String?

        func validate() throws {
            if let catalog, catalog.isEmpty { throw ValidationError("--catalog needs a directory") }
        }

        /// Loads and checks the catalog (see ``CatalogDirectory/load()``): every problem is reported as
        /// `error: file:line:column: message`.
        /// - Throws: ``CLIError`` for a missing directory or an invalid catalog.
        func load() throws -> Catalog {
            try CatalogDirectory.resolve(catalog).load()
        }
    }
}
