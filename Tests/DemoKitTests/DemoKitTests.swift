import ArgumentParser
import DabbaKafka
import DemoKit
import Logging
import Testing

@Suite("DemoKit: the summary line and exit status")
struct DemoVerdictTests {
    @Test("values in the order added; the status is 1 as soon as one invariant does not hold")
    func verdict() {
        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("orders", 20)
        verdict.require("stuck", 0, equals: 0)
        verdict.add("kills", 3)
        #expect(verdict.line == "dabba-demo orders=20 stuck=0 kills=3")
        #expect(verdict.passed && verdict.exitStatus == 0)

        verdict.require("duplicate_effects", 2, equals: 0)
        verdict.require(false, "no order was placed")
        #expect(verdict.line == "dabba-demo orders=20 stuck=0 kills=3 duplicate_effects=2")
        #expect(!verdict.passed && verdict.exitStatus == 1)
        #expect(verdict.violations == ["duplicate_effects=2 (expected 0)", "no order was placed"])
    }
}

@Suite("DemoKit: chaos")
struct ChaosTests {
    @Test("--chaos selects three brokers and the interval and seed given; a non-positive interval is refused")
    func options() throws {
        let plain = try ChaosOptions.parse([])
        #expect(!plain.chaos && plain.brokers == 1)
        let options = try ChaosOptions.parse(["--chaos", "--chaos-interval", "2.5", "--chaos-seed", "9"])
        #expect(options.brokers == 3)
        let settings = options.settings(leaderTopics: ["t": 3])
        #expect(settings.interval == .milliseconds(2500) && settings.seed == 9 && settings.leaderTopics == ["t": 3])
        #expect(throws: (any Error).self) { try ChaosOptions.parse(["--chaos", "--chaos-interval", "0"]) }
    }

    @Test("the same seed makes the same choices")
    func seeded() {
        var first = SeededGenerator(seed: 5)
        var second = SeededGenerator(seed: 5)
        #expect((0..<8).map { _ in first.next() } == (0..<8).map { _ in second.next() })
    }

    @Test("a single broker can only have request errors; several can also have a broker down and a leader moved")
    func possibleFaults() throws {
        let logger = Logger(label: "demokit.test")
        let single = try EmbeddedBroker(brokers: 1, logger: logger)
        defer { single.stop() }
        let cluster = try EmbeddedBroker(brokers: 3, logger: logger)
        defer { cluster.stop() }
        let settings = ChaosSettings(leaderTopics: ["t": 2])
        #expect(ChaosMonkey(settings: settings, services: [], broker: single).possibleFaults == [.requestErrors])
        #expect(
            Set(ChaosMonkey(settings: settings, services: [], broker: cluster).possibleFaults)
                == Set(ChaosFault.Kind.allCases))
        #expect(ChaosMonkey(settings: ChaosSettings(), services: [], broker: cluster).possibleFaults.count == 2)
    }

    @Test("faults are injected every interval and counted; once stopped, every broker serves again")
    func faultsAndStop() async throws {
        let logger = Logger(label: "demokit.test")
        let broker = try EmbeddedBroker(brokers: 3, logger: logger)
        defer { broker.stop() }
        try await broker.createTopic("chaos.kit", partitions: 3, replicationFactor: 3)
        let settings = ChaosSettings(
            interval: .milliseconds(50), seed: 3, brokerDowntime: .milliseconds(300), leaderTopics: ["chaos.kit": 3],
            faults: [.brokerDown, .leaderMoved])
        let chaos = ChaosRun(ChaosMonkey(settings: settings, services: [], broker: broker))
        let clock = ContinuousClock()
        // Generous: with the whole suite running, this process's cooperative threads can be busy for long stretches.
        let deadline = clock.now.advanced(by: .seconds(120))
        while chaos.record.faults < 4, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await chaos.stop()
        let record = chaos.record
        #expect(record.faults >= 4 && record.kills == 0)
        #expect(record.actions.count == record.faults, "\(record.actions)")
        #expect(record.actions.allSatisfy { $0.hasPrefix("fault: ") }, "\(record.actions)")

        // Every partition of every broker takes writes again.
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        for partition in Int32(0)..<3 {
            let report = try await producer.send(
                ProducerMessage(topic: "chaos.kit", value: Array("after chaos".utf8), partition: partition))
            #expect(report.partition == partition && report.error == nil)
        }
        try await producer.close()
    }
}
