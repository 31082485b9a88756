import DabbaSpawn
import Foundation
import Testing

/// `docker/` cannot run here (no Docker engine), so these tests check it by reading: Compose (Debian's
/// `docker-compose`, installed by `make deps`) must accept and resolve the file, and every executable a service
/// runs must be built into the image by `docker/Dockerfile` and be a product of `Package.swift`.
@Suite("docker/compose.yml")
struct DockerComposeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let composeFile = root.appendingPathComponent("docker/compose.yml").path

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

    @Test("the file is valid Compose and declares Kafka, the topics job, five services and the optional profiles")
    func validAndComplete() throws {
        let config = try Self.compose(["config"])
        #expect(config.status == 0, "docker-compose config failed:\n\(config.output)")
        let services = try Self.compose(["config", "--services"])
        #expect(
            Set(services.output.split(separator: "\n").map(String.init))
                == ["kafka", "topics", "orders", "restaurants", "delivery", "notifications", "analytics", "loadgen",
                    "kafka-ui"]
        )
        let profiles = try Self.compose(["config", "--profiles"])
        #expect(Set(profiles.output.split(separator: "\n").map(String.init)) == ["load", "ui"])
        // KRaft single node from the official image, with a health check the topics job waits for.
        #expect(config.output.contains("image: apache/kafka:"))
        #expect(config.output.contains("KAFKA_PROCESS_ROLES: broker,controller"))
        #expect(config.output.contains("healthcheck:"))
        #expect(config.output.contains("condition: service_healthy"))
        #expect(config.output.contains("condition: service_completed_successfully"))
    }

    @Test("every executable a service runs is built into the image and is a product of the package")
    func executablesExist() throws {
        let config = try Self.compose(["config"])
        let lines = config.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var executables: Set<String> = []
        for (index, line) in lines.enumerated() where line.trimmingCharacters(in: .whitespaces) == "command:" {
            if index + 1 < lines.count, let first = lines[index + 1].split(separator: "- ", maxSplits: 1).last {
                executables.insert(String(first))
            }
        }
        #expect(executables.contains("dabba"))
        #expect(executables.contains("food-orders"))
        let dockerfile = try String(contentsOfFile: Self.root.appendingPathComponent("docker/Dockerfile").path, encoding: .utf8)
        let manifest = try String(contentsOfFile: Self.root.appendingPathComponent("Package.swift").path, encoding: .utf8)
        for executable in executables.sorted() {
            #expect(dockerfile.contains(" \(executable)"), "docker/Dockerfile does not copy \(executable) into the image")
            #expect(manifest.contains("\"\(executable)\""), "Package.swift has no product \(executable)")
        }
    }
}
