import DabbaSpawn
import Foundation
import Testing

/// `docker/` cannot run here (no Docker engine), so these tests check it by reading: Compose (Debian's
/// `docker-compose`, installed by `make deps`) must accept and resolve the file, every executable a service
/// runs must be built into the image by `docker/Dockerfile` and be a product of `Package.swift`, and the services
/// must have the health checks, profiles and stores docker/README.md describes.
@Suite("docker/compose.yml")
struct DockerComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let composeFile = root.appendingPathComponent("docker/compose.yml").path
    static let dockerfile = root.appendingPathComponent("docker/Dockerfile").path

    /// Every profile of the file. Compose v1 resolves the services of all profiles anyway; Compose v2 (also installed
    /// as `docker-compose` by some) only those of the profiles given.
    static let profiles: Set<String> = ["food", "payments", "tatkal", "messaging", "rides", "traffic", "load", "ui"]
    /// The food-delivery system's pipeline services (profile `food`; its load generator is in `load`).
    static let foodServices: Set<String> = [
        "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
    ]
    /// The UPI payments system's pipeline services (profile `payments`; it has no load generator in the image).
    static let paymentServices: Set<String> = [
        "upi-gateway", "upi-ledger", "upi-switch", "upi-risk", "upi-analytics",
    ]
    /// The IRCTC Tatkal system's pipeline services (profile `tatkal`; it has no load generator in the image).
    static let tatkalServices: Set<String> = [
        "tatkal-gate", "tatkal-inventory", "tatkal-payments", "tatkal-notifications", "tatkal-analytics",
    ]
    /// The messaging system's pipeline services (profile `messaging`; it has no load generator in the image).
    static let messagingServices: Set<String> = [
        "chat-router", "chat-mailbox", "chat-receipts", "chat-push", "chat-analytics",
    ]
    /// The ride-matching system's pipeline services (profile `rides`; it has no load generator in the image).
    static let ridesServices: Set<String> = [
        "rides-dispatch", "rides-surge", "rides-trips", "rides-notifications", "rides-analytics",
    ]
    /// The traffic live-updates system's pipeline services (profile `traffic`; it has no load generator in the image).
    static let trafficServices: Set<String> = ["traffic-status", "traffic-alerts"]
    /// Every example system's pipeline services.
    static let systemServices = foodServices.union(paymentServices).union(tatkalServices).union(messagingServices)
        .union(ridesServices).union(trafficServices)

    /// Runs docker-compose against the compose file; fails with a hint when the tool is missing.
    static func compose(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let candidates = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("docker-compose is not installed: run `make deps` (Debian package docker-compose)")
            return (-1, "")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-compose-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = try SpawnedProcess(
            executable: tool, arguments: ["-f", composeFile] + arguments,
            environment: ProcessInfo.processInfo.environment, standardOutput: .file(output.path), standardError: nil
        )
        let status = process.waitForExitBlocking()
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// `docker-compose config` with every profile enabled.
    static func config(_ arguments: [String] = []) throws -> (status: Int32, output: String) {
        try compose(profiles.sorted().flatMap { ["--profile", $0] } + ["config"] + arguments)
    }

    /// The resolved services, by name.
    static func services() throws -> [String: ComposeService] {
        let config = try Self.config()
        #expect(config.status == 0, "docker-compose config failed:\n\(config.output)")
        return ComposeService.parse(config.output)
    }

    @Test("the file is valid Compose and declares Kafka, PostgreSQL, their set-up jobs, the services and the profiles")
    func validAndComplete() throws {
        let config = try Self.config()
        #expect(config.status == 0, "docker-compose config failed:\n\(config.output)")
        let services = try Self.config(["--services"])
        #expect(
            Set(services.output.split(separator: "\n").map(String.init))
                == Self.systemServices.union([
                    "kafka", "topics", "postgres", "postgres-schemas", "food-loadgen", "kafka-ui",
                ])
        )
        let profiles = try Self.config(["--profiles"])
        #expect(Set(profiles.output.split(separator: "\n").map(String.init)) == Self.profiles)
        // KRaft single node from the official image, with a health check the topics job waits for.
        #expect(config.output.contains("image: apache/kafka:"))
        #expect(config.output.contains("KAFKA_PROCESS_ROLES: broker,controller"))
        #expect(config.output.contains("condition: service_healthy"))
        #expect(config.output.contains("condition: service_completed_successfully"))
    }

    @Test("every executable a service runs is built into the image and is a product of the package")
    func executablesExist() throws {
        let services = try Self.services()
        let executables = Set(services.values.filter(\.isBuiltFromDockerfile).compactMap { $0.items("command").first })
        #expect(executables.contains("dabba"))
        #expect(executables.contains("food-orders"))
        #expect(executables.isSuperset(of: Self.systemServices), "\(executables.sorted())")
        let dockerfile = try String(contentsOfFile: Self.dockerfile, encoding: .utf8)
        let manifest = try String(contentsOfFile: Self.root.appendingPathComponent("Package.swift").path, encoding: .utf8)
        for executable in executables.sorted() {
            #expect(dockerfile.contains(" \(executable)"), "docker/Dockerfile does not copy \(executable) into the image")
            #expect(manifest.contains("\"\(executable)\""), "Package.swift has no product \(executable)")
        }
    }

    @Test("every service from the image that keeps running is health-checked on /ready with curl, which the image has")
    func servicesProbeReadiness() throws {
        let services = try Self.services()
        // One-shot jobs (`topics`, the load generators) serve no endpoint and are not restarted.
        let running = services.values.filter { $0.isBuiltFromDockerfile && $0.value("restart") != "no" }
        #expect(Set(running.map(\.name)).isSuperset(of: Self.systemServices))
        for service in running.sorted(by: { $0.name < $1.name }) {
            guard let port = service.option("--metrics-port"), (Int(port) ?? 0) > 0 else {
                Issue.record("\(service.name) runs without a fixed --metrics-port, so nothing can probe it")
                continue
            }
            let probe = service.healthCheck
            #expect(probe.first == "CMD" && probe.dropFirst().first == "curl", "\(service.name) probes with \(probe)")
            #expect(
                probe.contains("http://127.0.0.1:\(port)/ready"),
                "\(service.name)'s health check does not ask /ready on its --metrics-port \(port): \(probe)"
            )
        }

        // The probe is installed in the stage the services run in (the last one), not only in the build stage.
        let dockerfile = try String(contentsOfFile: Self.dockerfile, encoding: .utf8)
        let stages = ("\n" + dockerfile).components(separatedBy: "\nFROM ")
        #expect(stages.count >= 3, "docker/Dockerfile should build in one stage and run in another")
        let runtime = (stages.last ?? "").split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .joined(separator: " ")
        let words = runtime.split(whereSeparator: \.isWhitespace)
        #expect(words.contains("install") && words.contains("curl"), "the runtime stage installs no curl:\n\(runtime)")
    }

    @Test("PostgreSQL, health-checked and on a volume, has a schema for each system service's inbox")
    func postgresService() throws {
        let services = try Self.services()
        let postgres = try #require(services["postgres"])
        #expect(postgres.value("image")?.hasPrefix("postgres:") == true)
        #expect(postgres.healthCheck.contains { $0.contains("pg_isready") }, "\(postgres.healthCheck)")
        #expect(postgres.items("volumes").contains { $0.contains(":/var/lib/postgresql/data") })
        // Scaled-out services select their schema with options=-csearch_path%3Dfood_<service>, upi_<service>,
        // tatkal_<service>, chat_<service>, rides_<service> or traffic_<service> (docker/README.md).
        let schemas = try #require(services["postgres-schemas"])
        #expect(schemas.lines("depends_on") == ["postgres:", "condition: service_healthy"])
        let statements = schemas.items("command").joined(separator: " ")
        for name in Self.systemServices.sorted() {
            let schema = name.replacingOccurrences(of: "-", with: "_")
            #expect(statements.contains("CREATE SCHEMA IF NOT EXISTS \(schema);"), "no schema \(schema): \(statements)")
        }
    }

    @Test("each system's services are in its own profile; Kafka, PostgreSQL and their jobs have none")
    func profilesPerSystem() throws {
        let services = try Self.services()
        for name in Self.foodServices.sorted() {
            #expect(services[name]?.items("profiles") == ["food"], "\(name) is not in profile food")
        }
        for name in Self.paymentServices.sorted() {
            #expect(services[name]?.items("profiles") == ["payments"], "\(name) is not in profile payments")
        }
        for name in Self.tatkalServices.sorted() {
            #expect(services[name]?.items("profiles") == ["tatkal"], "\(name) is not in profile tatkal")
        }
        for name in Self.messagingServices.sorted() {
            #expect(services[name]?.items("profiles") == ["messaging"], "\(name) is not in profile messaging")
        }
        for name in Self.ridesServices.sorted() {
            #expect(services[name]?.items("profiles") == ["rides"], "\(name) is not in profile rides")
        }
        for name in Self.trafficServices.sorted() {
            #expect(services[name]?.items("profiles") == ["traffic"], "\(name) is not in profile traffic")
        }
        #expect(services["food-loadgen"]?.items("profiles") == ["load"])
        #expect(services["kafka-ui"]?.items("profiles") == ["ui"])
        for name in ["kafka", "topics", "postgres", "postgres-schemas"] {
            #expect(services[name]?.items("profiles") == [], "\(name) should always run")
        }
    }

    @Test("each system service keeps its stores in a volume of its own at /app/.dabba and has a host port of its own")
    func storesAndPorts() throws {
        let services = try Self.services()
        var owners: [String: String] = [:]  // each published port, as Compose prints it → the service publishing it
        for name in Self.systemServices.sorted() {
            guard let service = services[name] else {
                Issue.record("no service \(name)")
                continue
            }
            // `food-orders-data:/app/.dabba:rw` (Compose v1) or `type: volume source: food-orders-data …` (v2).
            let volumes = service.items("volumes")
            #expect(
                volumes.contains { $0.contains("\(name)-data") && $0.contains("/app/.dabba") },
                "\(name) keeps no store in the volume \(name)-data at /app/.dabba: \(volumes)"
            )
            // `published: 9101 target: 9100` (v1) or `mode: ingress target: 9100 published: "9101" …` (v2).
            let ports = service.items("ports")
            #expect(ports.count == 1 && ports.allSatisfy { $0.contains("9100") }, "\(name) publishes \(ports)")
            for port in ports {
                if let other = owners.updateValue(name, forKey: port) {
                    Issue.record("\(name) and \(other) publish the same host port: \(port)")
                }
            }
        }
        // The fake bank's file is on the switch's volume, so it survives restarts as the switch's own store does.
        let bankStore = try #require(services["upi-switch"]?.option("--bank-store"))
        #expect(bankStore.hasPrefix("/app/.dabba/"), "upi-switch keeps its bank store off its volume: \(bankStore)")
        // The gateways' control file is on the Tatkal payments service's volume, where docker/README.md's
        // `docker compose cp` puts it, and so survives restarts too.
        let gatewayControl = try #require(services["tatkal-payments"]?.option("--gateway-control"))
        #expect(
            gatewayControl.hasPrefix("/app/.dabba/"),
            "tatkal-payments reads its gateway control file off its volume: \(gatewayControl)"
        )
    }

    @Test("Kafka UI is Kafbat's maintained fork at a pinned release, not provectuslabs/kafka-ui")
    func kafkaUI() throws {
        let services = try Self.services()
        for service in services.values {
            #expect(service.value("image")?.hasPrefix("provectuslabs/kafka-ui") != true, "\(service.name) uses it")
        }
        let image = try #require(services["kafka-ui"]?.value("image"))
        #expect(image.hasPrefix("ghcr.io/kafbat/kafka-ui:v"), "\(image)")
    }
}

/// One service of `docker-compose config`'s output, which Compose prints normalized: services two spaces in under
/// `services:`, their settings two more, each value on a line of its own. Enough structure for these tests without a
/// YAML library: each setting's lines, trimmed; a list item's further lines (a long string Compose wrapped, or the
/// other keys of a mapping item) are joined to it.
struct ComposeService {
    let name: String
    /// The lines below each setting; an inline value (`image: postgres:17`) is its setting's only line.
    var settings: [String: [String]] = [:]

    /// The lines of a setting (empty when the service does not have it).
    func lines(_ key: String) -> [String] { settings[key] ?? [] }

    /// A setting's inline value, unquoted: `image`, `restart`.
    func value(_ key: String) -> String? {
        let lines = lines(key)
        guard lines.count == 1, !lines[0].hasPrefix("- "), !lines[0].contains(": ") else { return nil }
        return lines[0]
    }

    /// The items of a list setting, unquoted: `command`, `profiles`, `volumes`.
    func items(_ key: String) -> [String] {
        lines(key).filter { $0.hasPrefix("- ") }.map { Self.unquoted($0.dropFirst(2)) }
    }

    /// The health check's command (the only list in `healthcheck`), e.g. `["CMD", "curl", …]`.
    var healthCheck: [String] { items("healthcheck") }

    /// Whether Compose builds the service's image from docker/Dockerfile (the Dabba image).
    var isBuiltFromDockerfile: Bool { lines("build").contains("dockerfile: docker/Dockerfile") }

    /// The value that follows `option` in the command, e.g. `9100` for `--metrics-port`.
    func option(_ option: String) -> String? {
        let command = items("command")
        guard let index = command.firstIndex(of: option), index + 1 < command.count else { return nil }
        return command[index + 1]
    }

    /// Parses `docker-compose config`'s output into its services, by name.
    static func parse(_ config: String) -> [String: ComposeService] {
        var services: [String: ComposeService] = [:]
        var current: ComposeService?
        var key: String?
        var itemIndent: Int?  // the indentation of the current setting's last list item
        var inServices = false
        for line in config.split(separator: "\n") {
            let indent = line.prefix(while: { $0 == " " }).count
            let text = line.trimmingCharacters(in: .whitespaces)
            if indent == 0 || indent == 2 {
                if let service = current { services[service.name] = service }
                current = nil
                key = nil
                if indent == 0 { inServices = text == "services:" }
                if indent == 2, inServices { current = ComposeService(name: String(text.dropLast())) }
            } else if indent == 4, !text.hasPrefix("- ") {
                let parts = text.split(separator: ":", maxSplits: 1)
                key = String(parts[0])
                let inline = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                current?.settings[String(parts[0])] = inline.isEmpty ? [] : [unquoted(inline[...])]
                itemIndent = nil
            } else if let key {
                if text.hasPrefix("- ") {
                    itemIndent = indent
                    current?.settings[key, default: []].append(text)
                } else if let itemIndent, indent > itemIndent, var lines = current?.settings[key], !lines.isEmpty {
                    lines[lines.count - 1] += " " + text
                    current?.settings[key] = lines
                } else {
                    itemIndent = nil
                    current?.settings[key, default: []].append(text)
                }
            }
        }
        if let service = current { services[service.name] = service }
        return services
    }

    /// The text without the single or double quotes Compose puts around strings YAML would read otherwise (`'9100'`,
    /// `"no"`).
    static func unquoted(_ text: Substring) -> String {
        for quote in ["'", "\""] where text.count >= 2 && text.hasPrefix(quote) && text.hasSuffix(quote) {
            return String(text.dropFirst().dropLast())
        }
        return String(text)
    }
}
