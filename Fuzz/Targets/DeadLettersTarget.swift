import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Foundation

extension FuzzTarget {
    /// A record (``FuzzRecord`` text) read as a dead letter, as `dabba dlq list` and `dabba dlq replay` read it, and
    /// as a retry record, as the pipeline reads one from a retry tier (its attempt and origin headers).
    public static let deadLetters = FuzzTarget(
        name: "dead-letters",
        summary: "a dead-letter or retry record: failure context from Spring/Dabba headers, JSON line, replay, attempt",
        run: DeadLettersTarget.run,
        generate: DeadLettersTarget.generate,
        tokens: DeadLettersTarget.tokens
    )
}

enum DeadLettersTarget {
    static func run(_ input: [UInt8]) throws {
        let record = DeadLetterRecord(FuzzRecord(parsing: input).message())
        let object = record.json()
        try check(JSONSerialization.isValidJSONObject(object), "dlq list would print an invalid JSON object: \(object)")
        _ = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        if let partition = record.originalPartition {
            let bytes = record.headers.bytes(named: SpringDeadLetterHeaders.originalPartition) ?? []
            try check(bytes.count == 4 || bytes.count == 8, "partition \(partition) read from \(bytes.count) bytes")
        }
        let replayed = record.replay(to: record.originalTopic ?? "fuzz.orders")
        let count = replayed.headers.string(named: RetryHeaders.replayCount).flatMap { Int($0) }
        try check(
            count != nil && count ?? 0 > record.replayCount || record.replayCount == .max,
            "replay count \(record.replayCount) became \(String(describing: count))")
        try check(
            !replayed.headers.contains {
                $0.name.hasPrefix("kafka_dlt-") || $0.name.hasPrefix("dabba-") && $0.name != RetryHeaders.replayCount
            },
            "the replayed record kept diagnostics: \(replayed.headers.map(\.name))"
        )
        try check(
            replayed.value == record.message.value && replayed.key == record.message.key, "replay changed the record")
        // As the pipeline reads a retry record: the next attempt is counted from this one.
        let attempt = PipelineRunner.attempt(of: record.message)
        try check(attempt >= 1 && attempt < Int.max, "attempt \(attempt) read from the record")
        let origin = Origin(message: record.message)
        let carriedTopic = record.headers.string(named: RetryHeaders.originalTopic)
        try check(origin.topic == "fuzz.records" || origin.topic == carriedTopic, "origin topic \(origin.topic)")
    }

    static let tokens = [
        "kafka_dlt-original-topic: ", "kafka_dlt-original-partition: \\x00\\x00\\x00\\x07\n",
        "kafka_dlt-original-offset: \\x7f\\xff\\xff\\xff\\xff\\xff\\xff\\xff\n", "kafka_dlt-exception-fqcn: ",
        "dabba-replay-count: 9223372036854775807\n", "dabba-replay-count: -1\n", "dabba-attempt: ",
        "dabba-attempt: 9223372036854775807\n", "dabba-failed-at: ", "dabba-original-topic: ",
        "dabba-original-partition: 2147483648\n", "dabba-original-offset: ", "@timestamp: ",
        "@timestamp: -9223372036854775808\n", "ce_type: ", "\\xff", "\n\n", "1e400", "[", "{\"a\":", "NaN", "Infinity",
        "-0",
    ]

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        var headers = [
            KafkaHeader(name: SpringDeadLetterHeaders.originalTopic, string: random.pick(["food.orders", "", "é"])),
            KafkaHeader(
                name: SpringDeadLetterHeaders.originalPartition,
                value: random.oneIn(4)
                    ? [1, 2, 3] : SpringDeadLetterHeaders.encode(Int32.random(in: -5...100, using: &random))
            ),
            KafkaHeader(
                name: SpringDeadLetterHeaders.originalOffset,
                value: SpringDeadLetterHeaders.encode(random.pick([0, 42, Int64.max, Int64.min, -1]))
            ),
            KafkaHeader(name: SpringDeadLetterHeaders.originalConsumerGroup, string: "billing"),
            KafkaHeader(name: SpringDeadLetterHeaders.exceptionFQCN, string: "DabbaPipeline.HandlerFailure"),
            KafkaHeader(name: SpringDeadLetterHeaders.exceptionMessage, string: "card \"declined\"\n"),
            KafkaHeader(
                name: RetryHeaders.attempt,
                string: random.pick(["3", "-1", "x", "99999999999999999999", "9223372036854775807", "0"])
            ),
            KafkaHeader(name: RetryHeaders.originalTopic, string: "food.orders"),
            KafkaHeader(name: RetryHeaders.originalPartition, string: random.pick(["2", "-1", "2147483648", "x"])),
            KafkaHeader(name: RetryHeaders.originalOffset, string: random.pick(["42", "9223372036854775807", ""])),
            KafkaHeader(name: RetryHeaders.failedAt, string: JSONGenerator.timestamp(&random)),
            KafkaHeader(
                name: RetryHeaders.replayCount, string: random.pick(["0", "2", "-3", "9223372036854775806", "x"])),
            KafkaHeader(name: "ce_type", string: "fuzz.order.placed"),
            KafkaHeader(name: "ce_id", string: "evt-\(random.below(9))"),
            KafkaHeader(name: "ce_specversion", string: "1.0"),
            KafkaHeader(name: "ce_source", string: "/fuzz"),
            KafkaHeader(name: "ce_time", string: JSONGenerator.timestamp(&random)),
        ]
        headers.shuffle(using: &random)
        headers = headers.filter { _ in !random.oneIn(6) }
        let value: String? = random.pick([
            JSONGenerator.orderPlaced(&random), JSONGenerator.value(&random, depth: 3), "not json", "1e400",
            "\"\\ud800\"", nil,
        ])
        let record = FuzzRecord(
            key: random.oneIn(2) ? Array("ord_1".utf8) : nil,
            timestampMilliseconds: random.oneIn(3) ? random.pick([0, 1_790_000_000_000, Int64.max, Int64.min]) : nil,
            headers: headers,
            value: value.map { Array($0.utf8) }
        )
        return Mutation.mutate(record.text, tokens: tokens, &random)
    }
}
