import DabbaKafka
import Synchronization
import Testing

/// The fuzz targets and decoder tests read records made in memory (`KafkaMessage.inMemory`); they must read exactly
/// like the same records fetched from a broker.
@Suite("Records made in memory read like fetched records", .timeLimit(.minutes(2)))
struct InMemoryMessageTests {
    /// Everything a reader can observe of a message.
    struct Observed: Equatable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: [UInt8]?
        var keyString: String?
        var value: [UInt8]?
        var valueString: String?
        var valueCount: Int
        var inPlaceValue: [UInt8]?
        var inPlaceKey: [UInt8]?
        var headers: [KafkaHeader]
        var lastValues: [String?]
        var rawHeaders: [[UInt8]?]
        var timestamp: Int64?

        init(_ message: KafkaMessage, names: [String]) {
            topic = message.topic
            partition = message.partition
            offset = message.offset
            key = message.key
            keyString = message.keyString
            value = message.value
            valueString = message.valueString
            valueCount = message.valueCount
            inPlaceValue = message.withUnsafeValue { $0.map { Array($0) } }
            inPlaceKey = message.withUnsafeKey { $0.map { Array($0) } }
            headers = message.headers
            lastValues = names.map { message.header($0) }
            var raw: [[UInt8]?] = []
            message.forEachRawHeader { name, value in
                raw.append(Array(name))
                raw.append(value.map { Array($0) })
            }
            rawHeaders = raw
            timestamp = message.timestampMilliseconds
        }
    }

    @Test("key, value, repeated and null headers, timestamp; an unkeyed tombstone")
    func sameAsFetched() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        let headers = [
            KafkaHeader(name: "ce_id", string: "evt-1"), KafkaHeader(name: "trace", value: nil),
            KafkaHeader(name: "ce_id", string: "evt-2"), KafkaHeader(name: "bytes", value: [0, 255, 10]),
        ]
        let sent = [
            ProducerMessage(
                topic: topic, key: Array("ord_1".utf8), value: Array("{\"a\":1}".utf8), headers: headers,
                timestampMilliseconds: 1_790_000_000_123
            ),
            ProducerMessage(topic: topic, key: nil, value: nil, headers: [], timestampMilliseconds: 5),
        ]
        for message in sent { _ = try await producer.send(message) }
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        let names = ["ce_id", "trace", "bytes", "absent"]
        let compared = Mutex(0)
        _ = try await collect(consumer, count: 2) { fetched in
            let original = sent[Int(fetched.offset)]
            let made = KafkaMessage.inMemory(
                topic: topic, partition: fetched.partition, offset: fetched.offset, key: original.key,
                value: original.value, headers: original.headers, timestampMilliseconds: original.timestampMilliseconds
            )
            #expect(Observed(made, names: names) == Observed(fetched, names: names))
            compared.withLock { $0 += 1 }
        }
        #expect(compared.withLock { $0 } == 2)
        try await consumer.close()
        try await producer.close()
    }

    @Test("a header name is cut at its first NUL, as librdkafka's C-string names are")
    func namesAreCStrings() {
        let message = KafkaMessage.inMemory(
            topic: "t", value: [], headers: [KafkaHeader(name: "ce_id\u{0}x", string: "1")])
        #expect(message.headers == [KafkaHeader(name: "ce_id", string: "1")])
        #expect(message.header("ce_id") == "1")
    }
}
