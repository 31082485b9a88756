import ArgumentParser
import DabbaCatalog
import DabbaContracts
import Foundation

/// `dabba contract verify`: every service of a package checked against the catalog.
struct ContractVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every service's event types against the catalog and print producer -> topic -> consumer.",
        discussion: """
            Finds the package's Dabba service executables (executable products whose target depends on \
            DabbaService, directly or through the package's own targets, and whose sources call PipelineService; \
            fixtures under Tests/ only when named with --service or --include), builds them, and runs each with --contract-report --catalog DIR: no Kafka needed. \
            Each service checks in-process that the catalog's examples of the events it handles decode into its \
            Swift types, that the samples it declares with pipeline.emits validate against the catalog's schemas, \
            and that every event its consumer group receives has a handler or an explicit ignore. Prints a table \
            per event type (producers -> topic -> consumers, ok/FAIL), then one "error:" line per failure naming \
            the service, the event type, the field and the rule. Exit codes: 0 all pass, 1 a failure or an error. \
            See Docs/contracts.md.
            """
    )

    @Option(
        name: .customLong("package-path"), help: ArgumentHelp("The Swift package with the services.", valueName: "dir"))
    var packagePath: String = "."

    @Option(
        name: .customLong("service"),
        help: ArgumentHelp("Only this executable (repeatable); skips discovery.", valueName: "executable")
    )
    var services: [String] = []

    @Option(
        name: .customLong("include"),
        help: ArgumentHelp(
            "Also verify this executable, in addition to the discovered ones (repeatable).", valueName: "executable")
    )
    var included: [String] = []

    @Option(
        name: .customLong("exclude"),
        help: ArgumentHelp("Leave out this executable (repeatable).", valueName: "executable"))
    var excluded: [String] = []

    @Option(
        name: .customLong("bin-path"),
        help: ArgumentHelp("Run already-built executables from this directory instead of building.", valueName: "dir")
    )
    var binPath: String?

    @OptionGroup var catalogOptions: TopicsCommand.CatalogOptions

    func run() async throws {
        let directory = CatalogDirectory.resolve(catalogOptions.catalog)
        let catalog = try directory.load()
        let catalogURL = URL(fileURLWithPath: directory.path).standardizedFileURL
        let package = URL(fileURLWithPath: packagePath).standardizedFileURL

        var executables = services
        if executables.isEmpty {
            let described = try await ChildProcess.run(
                "swift", ["package", "--package-path", package.path, "describe", "--type", "json"])
            guard described.status == 0 else {
                throw CLIError("swift package describe failed in \(package.path):\n\(described.stderr)")
            }
            executables = try ServiceDiscovery.services(describeJSON: Data(described.stdout.utf8)).map(\.executable)
        }
        executables += included.filter { !executables.contains($0) }
        executables.removeAll { excluded.contains($0) }
        guard !executables.isEmpty else {
            throw CLIError(
                "no Dabba service executables in \(package.path) (executables depending on \(ServiceDiscovery.serviceModule)); name them with --service"
            )
        }

        let binDirectory: URL
        if let binPath {
            binDirectory = URL(fileURLWithPath: binPath).standardizedFileURL
        } else {
            for executable in executables {
                Output.note("building \(executable)")
                let built = try await ChildProcess.run(
                    "swift", ["build", "--package-path", package.path, "--product", executable])
                guard built.status == 0 else {
                    throw CLIError("swift build --product \(executable) failed:\n\(built.stdout)\(built.stderr)")
                }
            }
            let shown = try await ChildProcess.run(
                "swift", ["build", "--package-path", package.path, "--show-bin-path"])
            binDirectory = URL(fileURLWithPath: shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        var reports: [(executable: String, report: ContractReport)] = []
        var problems: [String] = []
        for executable in executables {
            switch try await Self.report(of: executable, in: binDirectory, catalog: catalogURL) {
            case .success(let report):
                reports.append((executable, report))
                problems += report.failures.map { $0.line(service: executable) }
            case .failure(let problem):
                problems.append(problem.message)
            }
        }
        for line in Self.table(catalog: catalog, reports: reports).lines { Output.line(line) }
        guard problems.isEmpty else {
            for problem in problems { Output.note("error: \(problem)") }
            throw CLIError(
                "contract verification failed: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(executables.count) service\(executables.count == 1 ? "" : "s")"
            )
        }
        Output.line(
            "All contracts hold: \(reports.count) service\(reports.count == 1 ? "" : "s"), \(catalog.events.count) event types."
        )
    }

    /// Runs one executable with `--contract-report` and reads its report.
    static func report(of executable: String, in binDirectory: URL, catalog: URL) async throws -> Result<
        ContractReport, CLIError
    > {
        let path = binDirectory.appendingPathComponent(executable).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(CLIError("\(executable): no executable at \(path) (build it, or check --bin-path)"))
        }
        let result = try await ChildProcess.run(
            path, ["--contract-report", "--catalog", catalog.path],
            environment: ["DABBA_BOOTSTRAP": nil, "DABBA_CATALOG": nil], timeLimit: .seconds(120)
        )
        let lastLine = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        if let report = try? JSONDecoder().decode(ContractReport.self, from: Data(lastLine.utf8)) {
            return .success(report)
        }
        let detail = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return .failure(
            CLIError(
                "\(executable): no contract report (exit status \(result.status)); is it a PipelineService executable?"
                    + (detail.isEmpty ? "" : " It printed: \(detail)")
            )
        )
    }

    /// One row per catalog event type: who emits it, its topic, who receives it, and whether their checks pass.
    static func table(catalog: Catalog, reports: [(executable: String, report: ContractReport)]) -> TextTable {
        var table = TextTable(header: ["EVENT TYPE", "PRODUCERS", "TOPIC", "CONSUMERS", "RESULT"])
        for event in catalog.events {
            let producers = reports.filter { $0.report.emits.contains(event.type) }.map(\.executable)
            let consumers = reports.compactMap { entry -> String? in
                guard entry.report.receives.contains(event.type) else { return nil }
                return entry.report.ignores[event.type] != nil ? "\(entry.executable) (ignores)" : entry.executable
            }
            let declaredProducers = catalog.producers.filter { $0.eventTypes.contains(event.type) }.compactMap(
                \.service)
            let declaredGroups = catalog.consumerGroups.filter { $0.eventTypes.contains(event.type) }.map(\.groupID)
            let failed = reports.contains { entry in
                entry.report.failures.contains { $0.eventType == event.type }
            }
            let verdict = failed ? "FAIL" : (producers.isEmpty && consumers.isEmpty ? "not covered" : "ok")
            table.rows.append([
                event.type,
                producers.isEmpty ? Self.declared(declaredProducers) : producers.joined(separator: ", "),
                event.topic,
                consumers.isEmpty
                    ? Self.declared(declaredGroups.map { "group \($0)" }) : consumers.joined(separator: ", "),
                verdict,
            ])
        }
        // Failures about types the catalog does not declare still get a row.
        let unknown = Set(reports.flatMap { $0.report.failures.map(\.eventType) }).filter {
            catalog.event(named: $0) == nil
        }
        for eventType in unknown.sorted() {
            table.rows.append([eventType, "-", "(not in the catalog)", "-", "FAIL"])
        }
        return table
    }

    /// What the catalog declares, for a column no verified service fills: `(catalog: a, b)` or `-`.
    static func declared(_ names: [String]) -> String {
        names.isEmpty ? "-" : "(catalog: \(Array(Set(names)).sorted().joined(separator: ", ")))"
    }
}
