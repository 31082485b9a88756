import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite("dabba consume", .timeLimit(.minutes(3)))
struct ConsumeCommandTests {
    /// Sends messages with a real producer, so the test knows exactly what is on the topic.
    private func produce(_ messages: [ProducerMessage]) async throws -> [DeliveryReport] {
        var configuration = ProducerConfiguration(bootstrap: sharedBroker.bootstrapServers)
        configuration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        var reports: [DeliveryReport] = []
        for message in messages { reports.append(try await producer.send(message)) }
        try await producer.close()
        return reports
    }

    @Test("--max N prints exactly the messages, with keys, values, headers and timestamps")
    func exactMessages() async throws {
        let topic = try await makeTopic(partitions: 3)
        let messages = (0..<9).map { index in
            ProducerMessage(
                topic: topic,
                key: index == 8 ? nil : Array("key-\(index % 4)".utf8),
                value: Array("value-\(index)".utf8),
                headers: [KafkaHeader(name: "n", string: "\(index)"), KafkaHeader(name: "null", value: nil)],
                timestampMilliseconds: 1_700_000_000_000 + Int64(index)
            )
        }
        let reports = try await produce(messages)
        let result = try await Dabba.run(["consume"] + bootstrapArguments + ["--topic", topic, "--max", "9"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        try #require(lines.count == 9)
        var seen = Set<Int>()
        for line in lines {
            let value = try #require(line.string("value"))
            let index = try #require(Int(value.dropFirst("value-".count)))
            seen.insert(index)
            #expect(line.string("topic") == topic)
            #expect(line.int("partition") == Int(reports[index].partition))
            #expect(line.int("offset") == Int(reports[index].offset))
            if index == 8 {
                #expect(line.isNull("key"))
            } else {
                #expect(line.string("key") == "key-\(index % 4)")
                #expect(
                    line.int("partition")
                        == Int(Murmur2Partitioner.partition(forKey: "key-\(index % 4)", partitionCount: 3))
                )
            }
            #expect(line.int("timestamp") == 1_700_000_000_000 + index)
            let headers = try #require(line["headers"] as? [String: Any])
            #expect(headers.count == 2)
            #expect(headers["n"] as? String == "\(index)")
            #expect(headers["null"] is NSNull)
        }
        #expect(seen == Set(0..<9))
        // Keys and their order of fields are stable.
        #expect(result.lines.allSatisfy { $0.hasPrefix("{\"headers\":{") })
    }

    @Test("the idle timeout ends a run with no messages, exit 0")
    func idleTimeout() async throws {
        let topic = try await makeTopic(partitions: 1)
        let result = try await Dabba.run(["consume"] + bootstrapArguments + ["-t", topic, "--idle-timeout", "1"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("no message for 1s"))
    }

    @Test("a named group continues where the previous run stopped")
    func namedGroupContinues() async throws {
        let topic = try await makeTopic(partitions: 1)
        _ = try await produce((0..<4).map { ProducerMessage(topic: topic, key: nil, value: "m\($0)") })
        let group = TestHelpers.uniqueName("cli-test")
        let first = try await Dabba.run(["consume"] + bootstrapArguments + ["-t", topic, "-g", group, "--max", "2"])
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(try first.jsonLines().map { $0.string("value") } == ["m0", "m1"])
        let second = try await Dabba.run(["consume"] + bootstrapArguments + ["-t", topic, "-g", group, "--max", "2"])
        #expect(second.exitCode == 0, "\(second.stderr)")
        #expect(try second.jsonLines().map { $0.string("value") } == ["m2", "m3"])
    }

    @Test("a topic that does not exist is an error")
    func unknownTopic() async throws {
        let result = try await Dabba.run(
            ["consume"] + bootstrapArguments + ["-t", TestHelpers.uniqueName("missing")]
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: topic 'missing-"), "\(result.stderr)")
        #expect(result.stderr.contains("does not exist"))
    }

    @Test("an unreachable broker fails within the timeout with a clear message")
    func unreachableBroker() async throws {
        let result = try await Dabba.run(
            ["consume", "-b", "127.0.0.1:1", "-t", "orders", "--timeout", "2"],
            timeLimit: .seconds(60)
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: could not reach Kafka at 127.0.0.1:1 within 2s"), "\(result.stderr)")
    }

    @Test("invalid values are usage errors naming the option")
    func invalidValues() async throws {
        let from = try await Dabba.run(["consume", "-b", "127.0.0.1:1", "-t", "orders", "--from", "middle"])
        #expect(from.exitCode == 64)
        #expect(from.stderr.hasPrefix("error: The value 'middle' is invalid for '--from <from>'"), "\(from.stderr)")
        let max = try await Dabba.run(["consume", "-b", "127.0.0.1:1", "-t", "orders", "--max", "0"])
        #expect(max.exitCode == 64)
        #expect(max.stderr.hasPrefix("error: --max must be 1 or more"), "\(max.stderr)")
    }
}
