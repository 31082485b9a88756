import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite("dabba produce", .timeLimit(.minutes(3)))
struct ProduceCommandTests {
    @Test("--value sends one message to the key's murmur2 partition and prints where it landed")
    func singleValue() async throws {
        let topic = try await makeTopic(partitions: 6)
        let expected = Murmur2Partitioner.partition(forKey: "customer-7", partitionCount: 6)
        for offset in 0..<2 {
            let result = try await Dabba.run(
                ["produce"] + bootstrapArguments
                    + ["--topic", topic, "--key", "customer-7", "--header", "source=cli", "--value", "hello \(offset)"]
            )
            #expect(result.exitCode == 0, "\(result.stderr)")
            let lines = try result.jsonLines()
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line.string("topic") == topic)
            #expect(line.int("partition") == Int(expected))
            #expect(line.int("offset") == offset)
            #expect(line.string("key") == "customer-7")
            // Stable key order: one compact object per line.
            #expect(
                result.lines.first?.hasPrefix("{\"key\":\"customer-7\",\"offset\":\(offset),\"partition\":") == true
            )
        }
    }

    @Test("standard input with --key-separator: one delivery line per input line, in input order")
    func keyedLines() async throws {
        let topic = try await makeTopic(partitions: 6)
        let keys = ["customer-1", "customer-2", "customer-3", "customer-4"]
        let inputs = (0..<12).map { index in (key: keys[index % 4], value: "order-\(index)") }
        let input = inputs.map { "\($0.key)|\($0.value)" }.joined(separator: "\n") + "\n"
        let result = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["--topic", topic, "--key-separator", "|", "-H", "kind=order"],
            input: input
        )
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        try #require(lines.count == 12)
        var nextOffset: [Int: Int] = [:]
        for (line, sent) in zip(lines, inputs) {
            let partition = Int(Murmur2Partitioner.partition(forKey: sent.key, partitionCount: 6))
            #expect(line.string("key") == sent.key)
            #expect(line.int("partition") == partition)
            // Within a partition, offsets follow the input order from 0.
            #expect(line.int("offset") == nextOffset[partition, default: 0])
            nextOffset[partition, default: 0] += 1
        }
    }

    @Test(
        "without a separator each line is a value; --key and --partition apply to all; a last line needs no newline"
    )
    func plainLines() async throws {
        let topic = try await makeTopic(partitions: 3)
        let result = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", topic, "-k", "same", "-p", "2"],
            input: "first\n\nthird"
        )
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        #expect(lines.map { $0.int("partition") } == [2, 2, 2])
        #expect(lines.map { $0.int("offset") } == [0, 1, 2])
        #expect(lines.allSatisfy { $0.string("key") == "same" })
    }

    @Test("a line without the key separator stops the run, naming the line; earlier lines are delivered")
    func lineWithoutSeparator() async throws {
        let topic = try await makeTopic(partitions: 1)
        let result = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", topic, "-K", ":"],
            input: "a:1\nb2\nc:3\n"
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: line 2 has no key separator ':'"), "\(result.stderr)")
        #expect(result.stderr.contains("'b2'"))
        let lines = try result.jsonLines()
        #expect(lines.map { $0.string("key") } == ["a"])
        // Nothing after the bad line was sent: consuming finds exactly one message.
        let consumed = try await Dabba.run(
            ["consume"] + bootstrapArguments + ["-t", topic, "--idle-timeout", "2"]
        )
        #expect(consumed.exitCode == 0, "\(consumed.stderr)")
        #expect(try consumed.jsonLines().map { $0.string("value") } == ["1"], "\(consumed.stdout) \(consumed.stderr)")
    }

    @Test("a message larger than message.max.bytes fails with the sizes")
    func messageTooLarge() async throws {
        let topic = try await makeTopic(partitions: 1)
        let small = try await Dabba.run(
            ["produce"] + bootstrapArguments
                + ["-t", topic, "--property", "message.max.bytes=1000", "--value", String(repeating: "x", count: 2000)]
        )
        #expect(small.exitCode == 1)
        #expect(small.stderr.contains("error: the message is too large: 2000 bytes"), "\(small.stderr)")
        #expect(small.stderr.contains("message.max.bytes (1000)"))

        let large = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", topic],
            inputData: Data(repeating: UInt8(ascii: "y"), count: 1_100_000) + Data("\n".utf8)
        )
        #expect(large.exitCode == 1)
        #expect(large.stderr.contains("error: line 1 is too large: 1100000 bytes"), "\(large.stderr)")
        #expect(large.stdout.isEmpty)
    }

    @Test("an invalid librdkafka property is named")
    func invalidProperty() async throws {
        let topic = try await makeTopic(partitions: 1)
        let result = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", topic, "--property", "no.such.property=1", "--value", "v"]
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: invalid librdkafka property 'no.such.property'"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a malformed --header is named, with usage (exit 64)")
    func malformedHeader() async throws {
        let result = try await Dabba.run(
            ["produce", "-b", "127.0.0.1:1", "-t", "orders", "--header", "trace", "--value", "v"]
        )
        #expect(result.exitCode == 64)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains("header 'trace' has no '='"), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: dabba produce"))
    }

    @Test("an unknown option fails with usage (exit 64)")
    func unknownOption() async throws {
        let result = try await Dabba.run(["produce", "-b", "127.0.0.1:1", "-t", "orders", "--bogus"])
        #expect(result.exitCode == 64)
        #expect(result.stderr.hasPrefix("error: Unknown option '--bogus'"), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: dabba produce"))
    }

    @Test("no -b and no DABBA_BOOTSTRAP is a clear error; DABBA_BOOTSTRAP alone works")
    func bootstrapFromEnvironment() async throws {
        let missing = try await Dabba.run(["produce", "-t", "orders", "--value", "v"])
        #expect(missing.exitCode == 64)
        #expect(missing.stderr.hasPrefix("error: no Kafka brokers given"), "\(missing.stderr)")
        #expect(missing.stderr.contains("DABBA_BOOTSTRAP"))

        let topic = try await makeTopic(partitions: 1)
        let fromEnvironment = try await Dabba.run(
            ["produce", "-t", topic, "--value", "v"],
            environment: ["DABBA_BOOTSTRAP": sharedBroker.bootstrapServers]
        )
        #expect(fromEnvironment.exitCode == 0, "\(fromEnvironment.stderr)")
        #expect(try fromEnvironment.jsonLines().first?.int("offset") == 0)
    }

    @Test("an unreachable broker fails within the timeout with a clear message")
    func unreachableBroker() async throws {
        for arguments in [["--value", "v"], []] {
            let result = try await Dabba.run(
                ["produce", "-b", "127.0.0.1:1", "-t", "orders", "--timeout", "2"] + arguments,
                input: "line\n",
                timeLimit: .seconds(60)
            )
            #expect(result.exitCode == 1)
            #expect(
                result.stderr.hasPrefix("error: could not reach Kafka at 127.0.0.1:1 within 2s"),
                "\(result.stderr)"
            )
            #expect(result.stderr.contains("unreachable"))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("a topic that does not exist, or a partition it does not have, is an error")
    func unknownTopicAndPartition() async throws {
        let missing = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", TestHelpers.uniqueName("no-such-topic"), "--value", "v"]
        )
        #expect(missing.exitCode == 1)
        #expect(missing.stderr.contains("error: topic 'no-such-topic-"), "\(missing.stderr)")
        #expect(missing.stderr.contains("does not exist"))

        let topic = try await makeTopic(partitions: 2)
        let badPartition = try await Dabba.run(
            ["produce"] + bootstrapArguments + ["-t", topic, "-p", "5", "--value", "v"]
        )
        #expect(badPartition.exitCode == 1)
        #expect(
            badPartition.stderr.contains("has 2 partitions (0...1); there is no partition 5"),
            "\(badPartition.stderr)"
        )
    }
}
