import ArgumentParser
import DabbaConsole
import DabbaContracts
import DabbaKafka
import Foundation
import ServiceLifecycle

/// `dabba ui`: the web console.
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve a web console that knows the catalog: system map, groups, messages, flows, dead letters, produce.",
        discussion: """
            Listens on 127.0.0.1 unless --host says otherwise. Read-only unless --allow-actions: then produce, \
            dead-letter replay and offset resets are enabled; every form carries a CSRF token, bulk actions need a \
            typed confirmation, and every action is logged. --service NAME=URL (repeatable, one per instance) adds a \
            service's HTTP endpoint (/ready, /health, /metrics, /flow). The Contracts page runs the service \
            executables found in --bin-path (default: the directory of this dabba) with --contract-report. \
            See Docs/console.md.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The port (0: any free port).")
    var port: Int = 8080

    @Option(help: "The address to listen on; 0.0.0.0 exposes the console to the network.")
    var host: String = "127.0.0.1"

    @Option(help: ArgumentHelp("The catalog directory (default: $DABBA_CATALOG, else ./Topics).", valueName: "dir"))
    var catalog: String?

    @Option(name: .customLong("service"), help: ArgumentHelp("A service instance's HTTP endpoint, NAME=URL.", valueName: "name=url"))
    var services: [String] = []

    @Flag(name: .customLong("allow-actions"), help: "Enable write actions: produce, dead-letter replay, offset reset.")
    var allowActions = false

    @Option(name: .customLong("bin-path"), help: ArgumentHelp("Where the service executables are, for the Contracts page.", valueName: "dir"))
    var binPath: String?

    @Option(help: ArgumentHelp("Seconds between samples of the cluster and the services.", valueName: "seconds"))
    var sampleInterval: Double = 2

    func parsedServices() throws -> [String: [URL]] {
        var parsed: [String: [URL]] = [:]
        for entry in services {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex,
                let url = URL(string: String(entry[entry.index(after: equals)...])), url.scheme == "http", url.host != nil
            else {
                throw ValidationError("--service \(entry): expected NAME=http://host:port")
            }
            parsed[String(entry[..<equals]), default: []].append(url)
        }
        return parsed
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be within 0…65535, not \(port)") }
        guard sampleInterval > 0 else { throw ValidationError("--sample-interval must be positive, not \(sampleInterval)") }
        _ = try parsedServices()
    }

    func run() async throws {
        let directory = CatalogDirectory.resolve(catalog)
        let loaded = try directory.load()
        var configuration = ConsoleConfiguration(
            catalogDirectory: URL(fileURLWithPath: directory.path), client: try connection.clientConfiguration())
        configuration.host = host
        configuration.port = port
        configuration.services = try parsedServices()
        configuration.allowActions = allowActions
        configuration.sampleInterval = .cliSeconds(sampleInterval)
        let bin = URL(fileURLWithPath: binPath ?? CommandLine.arguments[0]).standardizedFileURL
        let binDirectory = binPath == nil ? bin.deletingLastPathComponent() : bin
        let catalogURL = URL(fileURLWithPath: directory.path)
        let names = Set(loaded.consumerGroups.compactMap(\.service) + loaded.producers.compactMap(\.service)).sorted()
        configuration.contractReports = {
            var results: [ConsoleContractResult] = []
            for name in names where FileManager.default.isExecutableFile(atPath: binDirectory.appendingPathComponent(name).path) {
                let report: Result<ContractReport, ConsoleError>
                do {
                    report = try await ContractVerifyCommand.report(of: name, in: binDirectory, catalog: catalogURL)
                        .mapError { ConsoleError(.badRequest, $0.message) }
                } catch {
                    report = .failure(ConsoleError(.badRequest, "\(error)"))
                }
                // A load generator the catalog names as a sender is not a pipeline service: nothing to check.
                if case .failure(let error) = report, error.message.contains("Unknown option '--contract-report'") { continue }
                results.append(ConsoleContractResult(service: name, report: report))
            }
            return results
        }
        let logger = connection.logger(label: "dabba.ui")
        let console: Console
        do {
            console = try Console(configuration: configuration, catalog: loaded, logger: logger)
        } catch let error as ConsoleError {
            throw CLIError(error.message)
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        let announce = Task {
            let bound = await console.boundPort()
            Output.note("dabba ui: http://\(host):\(bound)/ (\(allowActions ? "actions enabled" : "read-only"); Ctrl-C stops)")
        }
        let group = ServiceGroup(services: [console], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        announce.cancel()
    }
}
