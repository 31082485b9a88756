import Foundation

/// Finds a package's Dabba service executables in `swift package describe --type json`.
///
/// The rule: an executable product is a Dabba service when one of its targets
/// 1. depends on `DabbaService`, directly or through other targets of the package, as a target (inside the Dabba
///    package itself) or as a product (in a package that depends on Dabba), and
/// 2. has a source file that mentions `PipelineService` (it calls `PipelineService.run` or `.main`), so launchers
///    and load generators that merely link the module are not mistaken for services.
/// Executables whose target lives under `Tests/` (test fixtures) are left out unless named with `--service` or
/// `--include`.
enum ServiceDiscovery {
    /// The module every Dabba service executable is built on.
    static let serviceModule = "DabbaService"

    /// A discovered service executable.
    struct Service: Sendable, Hashable {
        /// The executable product's name.
        var executable: String
        /// Its main target's path, relative to the package.
        var path: String
    }

    /// The Dabba service executables of a package description, sorted by name.
    /// - Parameters:
    ///   - describeJSON: The output of `swift package describe --type json`.
    ///   - readSource: Reads a source file given its path relative to the package (default: from the package
    ///     directory the description names); `nil` when unreadable, which counts as a service (better a reported
    ///     failure than a silently skipped service).
    /// - Returns: The services, fixtures under `Tests/` excluded.
    /// - Throws: ``CLIError`` when the description is not the expected JSON.
    static func services(describeJSON: Data, readSource: ((String) -> String?)? = nil) throws -> [Service] {
        guard let root = try? JSONSerialization.jsonObject(with: describeJSON) as? [String: Any],
            let products = root["products"] as? [[String: Any]],
            let targets = root["targets"] as? [[String: Any]]
        else {
            throw CLIError("`swift package describe --type json` printed something other than a package description")
        }
        var targetDependencies: [String: [String]] = [:]
        var productDependencies: [String: [String]] = [:]
        var paths: [String: String] = [:]
        var sources: [String: [String]] = [:]
        let packageDirectory = root["path"] as? String ?? "."
        let read =
            readSource ?? { relative in
                try? String(contentsOfFile: packageDirectory + "/" + relative, encoding: .utf8)
            }
        for target in targets {
            guard let name = target["name"] as? String else { continue }
            targetDependencies[name] = target["target_dependencies"] as? [String] ?? []
            productDependencies[name] = target["product_dependencies"] as? [String] ?? []
            paths[name] = target["path"] as? String ?? ""
            sources[name] = target["sources"] as? [String] ?? []
        }
        func callsPipelineService(_ target: String) -> Bool {
            let files = sources[target, default: []]
            if files.isEmpty { return true }
            return files.contains { file in
                read(paths[target, default: "."] + "/" + file)?.contains("PipelineService") ?? true
            }
        }
        func dependsOnService(_ target: String, visited: inout Set<String>) -> Bool {
            guard visited.insert(target).inserted else { return false }
            if target == serviceModule || productDependencies[target, default: []].contains(serviceModule) {
                return true
            }
            return targetDependencies[target, default: []].contains { dependsOnService($0, visited: &visited) }
        }
        var services: [Service] = []
        for product in products {
            guard let name = product["name"] as? String,
                let type = product["type"] as? [String: Any], type.keys.contains("executable"),
                let productTargets = product["targets"] as? [String]
            else { continue }
            var visited: Set<String> = []
            guard
                let main = productTargets.first(where: {
                    dependsOnService($0, visited: &visited) && callsPipelineService($0)
                })
            else { continue }
            let path = paths[main] ?? ""
            if path == "Tests" || path.hasPrefix("Tests/") { continue }
            services.append(Service(executable: name, path: path))
        }
        return services.sorted { $0.executable < $1.executable }
    }
}
