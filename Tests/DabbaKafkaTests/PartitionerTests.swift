import DabbaKafka
import Testing

@Suite("Java-compatible murmur2 partitioner")
struct PartitionerTests {
    /// Apache Kafka's `UtilsTest.testMurmur2` vectors: the Java client's hashes for these keys.
    @Test(
        "hash equals Java's Utils.murmur2",
        arguments: [
            ("21", Int32(-973_932_308)),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
            ("", 275_646_681),
        ]
    )
    func javaVectors(key: String, expected: Int32) {
        #expect(Murmur2Partitioner.hash(Array(key.utf8)) == expected)
    }

    @Test("partition is toPositive(murmur2) % count, like Java's BuiltInPartitioner")
    func partitionChoice() {
        // toPositive(-790332482) = 1357151166; 1357151166 % 10 = 6.
        #expect(Murmur2Partitioner.partition(forKey: "foobar", partitionCount: 10) == 6)
        #expect(Murmur2Partitioner.partition(forKey: "foobar", partitionCount: 50) == 16)
        for count in Int32(1)...64 {
            let partition = Murmur2Partitioner.partition(forKey: "order-42", partitionCount: count)
            #expect((0..<count).contains(partition))
        }
    }

    @Test("librdkafka's murmur2_random places every key where the Java partitioner does")
    func producerAgreesWithJava() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 12)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<200 {
            let key = "key-\(index)"
            let report = try await producer.send(ProducerMessage(topic: topic, key: key, value: "v"))
            #expect(report.partition == Murmur2Partitioner.partition(forKey: key, partitionCount: 12), "key \(key)")
        }
        try await producer.close()
    }
}
