import DabbaEvents
import DabbaKafka
import Foundation
import PaymentsFixtureEvents
import Testing

@Suite("Typed events and the CloudEvents envelope", .timeLimit(.minutes(2)))
struct TypedEventTests {
    let requested = PaymentRequested(
        paymentId: "pay_1", orderId: "ord_7731", customerId: "cus_118",
        amount: Money(amountMinor: 4250, currency: "EUR"), method: "card",
        requestedAt: Date(timeIntervalSince1970: 1_742_000_000.125)
    )

    @Test(
        "typed round trip: every CloudEvents header byte for byte, the key, the partition, the payload",
        arguments: [false, true]
    )
    func roundTrip(parsesHeadersOnFetch: Bool) async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 6)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger)
        let events = EventProducer(
            producer: producer, source: "/payments/checkout", routes: EventRoutes([PaymentRequested.eventType: topic])
        )
        var metadata = EventMetadata(
            id: "evt-1", time: Date(timeIntervalSince1970: 1_742_000_001.5), subject: "ord_7731",
            correlationID: "corr-9", causationID: "evt-0",
            traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        )
        metadata.traceState = "vendor=1"
        let report = try await events.send(requested, metadata: metadata)
        #expect(report.partition == Murmur2Partitioner.partition(forKey: "ord_7731", partitionCount: 6))

        let consumer = try testConsumer(broker, topic: topic, parsesHeadersOnFetch: parsesHeadersOnFetch)
        let message = try #require(try await firstMessages(consumer, count: 1).first)
        #expect(message.keyString == "ord_7731")
        #expect(message.partition == report.partition)
        let headers = message.headers.map { "\($0.name)=\($0.stringValue ?? "<null>")" }
        #expect(
            headers == [
                "ce_specversion=1.0",
                "ce_id=evt-1",
                "ce_source=/payments/checkout",
                "ce_type=payments.payment.requested",
                "ce_time=2025-03-15T00:53:21.500Z",
                "ce_subject=ord_7731",
                "ce_dataschema=urn:dabba:schema:payments.payment.requested:1",
                "content-type=application/json",
                "ce_causationid=evt-0",
                "ce_correlationid=corr-9",
                "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate=vendor=1",
            ]
        )
        #expect(
            message.valueString
                == #"{"amount":{"amountMinor":4250,"currency":"EUR"},"customerId":"cus_118","method":"card","orderId":"ord_7731","paymentId":"pay_1","requestedAt":"2025-03-15T00:53:20.125Z"}"#
        )
        let decoder = EventDecoder(registry: EventRegistry([PaymentRequested.self]))
        let decoded = try decoder.decode(message).get()
        #expect(decoded.payload(as: PaymentRequested.self) == requested)
        #expect(decoded.envelope.id == "evt-1")
        #expect(decoded.envelope.schemaVersion == 1)
        #expect(decoded.envelope.correlationID == "corr-9")
        #expect(decoded.envelope.traceParent == metadata.traceParent)
        try await consumer.close()
        try await producer.close()
    }

    @Test("a structured-mode and a binary-mode CloudEvent written by hand decode the same")
    func structuredAndBinaryAgree() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger)
        let payload = #"{"paymentId":"pay_1","orderId":"ord_7731","customerId":"cus_118","amount":{"amountMinor":4250,"currency":"EUR"},"method":"card","requestedAt":"2025-03-15T00:53:20.125Z"}"#
        // Binary mode, as a Java/Go/Python CloudEvents SDK writes it.
        try await producer.send(
            ProducerMessage(
                topic: topic, key: Array("ord_7731".utf8), value: Array(payload.utf8),
                headers: [
                    KafkaHeader(name: "ce_specversion", string: "1.0"),
                    KafkaHeader(name: "ce_id", string: "evt-1"),
                    KafkaHeader(name: "ce_source", string: "/payments/checkout"),
                    KafkaHeader(name: "ce_type", string: "payments.payment.requested"),
                    KafkaHeader(name: "ce_time", string: "2025-03-15T01:53:21.5+01:00"),
                    KafkaHeader(name: "content-type", string: "application/json; charset=utf-8"),
                    KafkaHeader(name: "ce_partitionkey", string: "ord_7731"),
                ]
            )
        )
        // Structured mode: attributes and data in the value.
        let structured = """
            {"specversion":"1.0","id":"evt-1","source":"/payments/checkout","type":"payments.payment.requested",
             "time":"2025-03-15T00:53:21.500Z","datacontenttype":"application/json","data":\(payload)}
            """
        try await producer.send(
            ProducerMessage(
                topic: topic, key: Array("ord_7731".utf8), value: Array(structured.utf8),
                headers: [KafkaHeader(name: "content-type", string: "application/cloudevents+json; charset=UTF-8")]
            )
        )
        let consumer = try testConsumer(broker, topic: topic)
        let messages = try await firstMessages(consumer, count: 2)
        let decoder = EventDecoder(registry: EventRegistry([PaymentRequested.self]))
        let binary = try decoder.decode(messages[0]).get()
        let fromStructured = try decoder.decode(messages[1]).get()
        #expect(binary.payload(as: PaymentRequested.self) == requested)
        #expect(fromStructured.payload(as: PaymentRequested.self) == requested)
        #expect(binary.envelope.id == fromStructured.envelope.id)
        #expect(binary.envelope.type == fromStructured.envelope.type)
        #expect(binary.envelope.source == fromStructured.envelope.source)
        #expect(binary.envelope.time == fromStructured.envelope.time)
        #expect(binary.envelope.extensions == ["partitionkey": "ord_7731"])
        try await consumer.close()
        try await producer.close()
    }

    @Test("records that are not registered events fail with the reason and the record's position")
    func decodingFailures() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger)
        let events = EventProducer(
            producer: producer, source: "/test",
            routes: EventRoutes([PaymentRequested.eventType: topic, PaymentAuthorized.eventType: topic])
        )
        // 0: unknown type for this consumer.
        try await events.send(
            PaymentAuthorized(
                paymentId: "p", orderId: "o", amount: Money(amountMinor: 1, currency: "EUR"), provider: "x",
                authorizationCode: "A", authorizedAt: Date()
            )
        )
        // 1: invalid JSON payload with a registered type.
        try await producer.send(
            ProducerMessage(
                topic: topic, key: nil, value: Array("{not json".utf8),
                headers: EventEnvelope(id: "bad-1", source: "/t", type: PaymentRequested.eventType).binaryHeaders
            )
        )
        // 2: missing field.
        try await producer.send(
            ProducerMessage(
                topic: topic, key: nil, value: Array(#"{"paymentId":"p"}"#.utf8),
                headers: EventEnvelope(id: "bad-2", source: "/t", type: PaymentRequested.eventType).binaryHeaders
            )
        )
        // 3: no CloudEvents headers at all.
        try await producer.send(ProducerMessage(topic: topic, key: "k", value: "plain"))
        let consumer = try testConsumer(broker, topic: topic)
        let messages = try await firstMessages(consumer, count: 4)
        let decoder = EventDecoder(registry: EventRegistry([PaymentRequested.self]))
        let failures = messages.compactMap { message -> EventDecodingError? in
            if case .failure(let error) = decoder.decode(message) { return error }
            return nil
        }
        try #require(failures.count == 4)
        #expect(failures[0].code == .unknownEventType)
        #expect(failures[0].eventType == PaymentAuthorized.eventType)
        #expect(failures[1].code == .invalidPayload)
        #expect(failures[1].eventID == "bad-1")
        #expect(failures[2].code == .invalidPayload)
        #expect(failures[2].reason.contains("missing field 'orderId'"))
        #expect(failures[3].code == .invalidEnvelope)
        #expect(failures[3].reason.contains("ce_specversion"))
        for (offset, failure) in failures.enumerated() {
            #expect(failure.topic == topic)
            #expect(failure.partition == 0)
            #expect(failure.offset == Int64(offset))
        }
        try await consumer.close()
        try await producer.close()
    }

    @Test("RFC 3339: written in UTC with milliseconds; any RFC 3339 form is read")
    func rfc3339() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_742_000_000.125)) == "2025-03-15T00:53:20.125Z")
        #expect(RFC3339.parse("2025-03-15T00:53:20.125Z") == Date(timeIntervalSince1970: 1_742_000_000.125))
        #expect(RFC3339.parse("2025-03-15T01:53:20+01:00") == Date(timeIntervalSince1970: 1_742_000_000))
        #expect(RFC3339.parse("2025-03-15t00:53:20.000000001z").map { Int($0.timeIntervalSince1970) } == 1_742_000_000)
        #expect(RFC3339.parse("2025-03-15 00:53:20Z") != nil)
        #expect(RFC3339.parse("2025-13-15T00:53:20Z") == nil)
        #expect(RFC3339.parse("2025-03-15T00:53:20") == nil)
        #expect(RFC3339.parse("yesterday") == nil)
    }
}
