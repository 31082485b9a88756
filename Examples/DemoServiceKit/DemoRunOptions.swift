import ArgumentParser
import DabbaCatalog
import Foundation

/// The options every demo takes about where it runs: the catalog, the work directory, and whether to keep it.
public struct DemoRunOptions: ParsableArguments, Sendable {
    /// The Topics/ catalog directory.
    @Option(help: "The Topics/ catalog directory.")
    public var catalog = "Topics"

    /// Where the services' stores and logs go.
    @Option(
        name: .customLong("work-dir"),
        help: "Where the services' stores and logs go (default: a new temporary directory).")
    public var workDirectory: String?

    /// Keep the work directory after a successful run.
    @Flag(help: "Keep the work directory (stores and logs) after a successful run.")
    public var keep = false

    /// Creates the defaults.
    public init() {}

    /// Creates the work directory (`--work-dir`, or a new temporary one named after the demo).
    /// - Parameter demo: The demo's name (`food-demo`).
    /// - Returns: Its path.
    /// - Throws: File errors.
    public func makeWorkDirectory(for demo: String) throws -> String {
        let directory = workDirectory ?? NSTemporaryDirectory() + "\(demo)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Loads the catalog.
    /// - Returns: The catalog.
    /// - Throws: `ValidationError` listing what is wrong with it.
    public func loadCatalog() throws -> Catalog {
        do {
            return try Catalog.load(directory: URL(fileURLWithPath: catalog))
        } catch let errors as CatalogErrors {
            throw ValidationError("the catalog in \(catalog) is invalid:\n\(errors)")
        }
    }
}
