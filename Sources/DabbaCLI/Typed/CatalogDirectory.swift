import DabbaCatalog
import Foundation

/// The topic catalog directory a typed command reads, and loading it with every problem reported.
///
/// `dabba produce EVENT_TYPE` takes `--catalog DIR`, else `$DABBA_CATALOG`, else `./Topics`
/// (``resolve(_:)``); `consume --decode` and `broker` read a catalog only when `--catalog` is given
/// (``init(explicit:)``), so a stray `Topics/` directory never changes what they do.
struct CatalogDirectory: Sendable {
    /// The environment variable that names the catalog directory when `--catalog` is not given.
    static let environmentVariable = "DABBA_CATALOG"
    /// The catalog directory when neither `--catalog` nor the environment variable is given.
    static let defaultPath = "Topics"

    /// Where the path came from, for error messages.
    enum Origin: Sendable {
        case option, environment, defaultPath
    }

    /// The directory, as given (relative paths are relative to the current directory).
    let path: String
    let origin: Origin

    /// `--catalog DIR`.
    init(explicit path: String) {
        self.path = path
        self.origin = .option
    }

    private init(path: String, origin: Origin) {
        self.path = path
        self.origin = origin
    }

    /// `--catalog`, else `$DABBA_CATALOG` (when not empty), else `Topics`.
    static func resolve(_ option: String?) -> CatalogDirectory {
        if let option { return CatalogDirectory(explicit: option) }
        if let fromEnvironment = ProcessInfo.processInfo.environment[environmentVariable], !fromEnvironment.isEmpty {
            return CatalogDirectory(path: fromEnvironment, origin: .environment)
        }
        return CatalogDirectory(path: defaultPath, origin: .defaultPath)
    }

    /// Loads and checks the catalog.
    /// - Returns: The catalog.
    /// - Throws: ``CLIError`` naming a missing directory, or listing every catalog problem as
    ///   `file:line:column: message`, one `error:` line each.
    func load() throws -> Catalog {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            switch origin {
            case .option:
                throw CLIError("catalog directory '\(path)' (--catalog) does not exist")
            case .environment:
                throw CLIError("catalog directory '\(path)' (from $\(Self.environmentVariable)) does not exist")
            case .defaultPath:
                throw CLIError(
                    "no catalog: there is no ./\(path) directory here; pass --catalog DIR or set "
                        + "$\(Self.environmentVariable)"
                )
            }
        }
        guard isDirectory.boolValue else {
            throw CLIError("the catalog must be a directory of *.asyncapi.yaml files; '\(path)' is a file")
        }
        do {
            return try Catalog.load(directory: URL(fileURLWithPath: path))
        } catch let failure as CatalogErrors {
            var lines = failure.errors.map(\.description)
            if lines.count > 1 { lines.append("the catalog in '\(path)' has \(lines.count) errors") }
            // One `error:` line per problem, like a compiler.
            throw CLIError(lines.joined(separator: "\nerror: "))
        }
    }

    /// `a, b, c`: every event type of a catalog, for "unknown event type" messages.
    static func eventTypeList(of catalog: Catalog) -> String {
        catalog.events.isEmpty ? "(none)" : catalog.events.map(\.type).joined(separator: ", ")
    }
}
