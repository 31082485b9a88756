import ArgumentParser

/// `dabba contract`: producer/consumer contract checks and schema-evolution checks of the catalog.
struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract",
        abstract: "Check services against the catalog, and catalog changes against an earlier revision.",
        discussion: "See Docs/contracts.md.",
        subcommands: [ContractVerifyCommand.self, ContractCompatCommand.self]
    )
}

/// Left-aligned columns for people (two spaces between columns).
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    /// The header, a rule and the rows.
    var lines: [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in
            all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0
        }
        func render(_ row: [String]) -> String {
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return [render(header)] + rows.map(render)
    }
}
