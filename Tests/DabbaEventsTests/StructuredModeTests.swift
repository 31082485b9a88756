import DabbaCatalog
@testable import DabbaEvents
import DabbaKafka
import Foundation
import PaymentsFixtureEvents
import Testing

/// CloudEvents structured content mode: written when a route says so, read in place when the record has the common
/// shape, and by the general reader otherwise, with the same result.
@Suite("Structured content mode")
struct StructuredModeTests {
    let requested = PaymentRequested(
        paymentId: "pay_1", orderId: "ord_7731", customerId: "cus_118",
        amount: Money(amountMinor: 4250, currency: "EUR"), method: "card",
        requestedAt: Date(timeIntervalSince1970: 1_742_000_000.125)
    )
    let payload = #"{"amount":{"amountMinor":4250,"currency":"EUR"},"customerId":"cus_118","method":"card","orderId":"ord_7731","paymentId":"pay_1","requestedAt":"2025-03-15T00:53:20.125Z"}"#
    let decoder = EventDecoder(registry: EventRegistry([PaymentRequested.self]))

    func producer(_ mode: EventContentMode) throws -> EventProducer {
        // Never connected: only `message(for:)` is used.
        let kafka = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: "127.0.0.1:1"), logger: quietLogger)
        return EventProducer(
            producer: kafka, source: "/payments/checkout",
            routes: EventRoutes(
                [PaymentRequested.eventType: "payments"], contentModes: [PaymentRequested.eventType: mode]
            )
        )
    }

    func metadata() -> EventMetadata {
        var metadata = EventMetadata(
            id: "evt-1", time: Date(timeIntervalSince1970: 1_742_000_001.5), subject: "ord_7731",
            correlationID: "corr-9", causationID: "evt-0",
            traceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        )
        metadata.traceState = "vendor=1"
        return metadata
    }

    func record(_ message: ProducerMessage) -> KafkaMessage {
        KafkaMessage.inMemory(topic: message.topic, key: message.key, value: message.value, headers: message.headers)
    }

    func record(value: String, contentType: String = "application/cloudevents+json") -> KafkaMessage {
        KafkaMessage.inMemory(
            topic: "payments", key: Array("ord_7731".utf8), value: Array(value.utf8),
            headers: [KafkaHeader(name: "content-type", string: contentType)]
        )
    }

    @Test("a structured route writes one content-type header, the trace context, and the envelope with data in the value")
    func written() throws {
        let message = try producer(.structured).message(for: requested, metadata: metadata())
        #expect(
            message.headers.map { "\($0.name)=\($0.stringValue ?? "<null>")" } == [
                "content-type=application/cloudevents+json",
                "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate=vendor=1",
            ]
        )
        #expect(message.key == Array("ord_7731".utf8))
        let expected = #"{"specversion":"1.0","id":"evt-1","source":"/payments/checkout","type":"payments.payment.requested","time":"2025-03-15T00:53:21.500Z","subject":"ord_7731","datacontenttype":"application/json","dataschema":"urn:dabba:schema:payments.payment.requested:1","correlationid":"corr-9","causationid":"evt-0","data":"#
            + payload + "}"
        #expect(message.value.map { String(decoding: $0, as: UTF8.self) } == expected)
    }

    @Test("structured and binary records of one event decode to the same payload and envelope")
    func sameEventBothModes() throws {
        let binary = try decoder.decode(record(try producer(.binary).message(for: requested, metadata: metadata()))).get()
        let structuredRecord = record(try producer(.structured).message(for: requested, metadata: metadata()))
        let structured = try decoder.decode(structuredRecord).get()
        #expect(structured.payload(as: PaymentRequested.self) == requested)
        #expect(structured.envelope == binary.envelope)
        #expect(structured.envelope.traceState == "vendor=1")
        // Dabba's own records take the in-place path.
        var fields = BinaryModeHeaders(structuredRecord)
        let data = structuredRecord.withUnsafeValue { value in
            value.flatMap { StructuredMode.envelopeSpans(of: $0, into: &fields) }.map { Array($0) }
        }
        #expect(data == Array(payload.utf8))
    }

    @Test("escapes, base64 data, extensions of any type, white space and any member order decode alike")
    func generalShapes() throws {
        let reordered = """
            { "data" : \(payload) ,
              "type":"payments.payment.requested", "id":"evt-1", "specversion":"1.0",
              "source":"/payments/checkout", "time":"2025-03-15T01:53:21.5+01:00", "region":"eu" }
            """
        let escaped = #"{"specversion":"1.0","id":"evt-1","source":"/payments/\"checkout\"","type":"payments.payment.requested","subject":"line\nbreak","priority":3,"data":"#
            + payload + "}"
        let encoded = Data(payload.utf8).base64EncodedString()
        let base64 = #"{"specversion":"1.0","id":"evt-1","source":"/payments/checkout","type":"payments.payment.requested","datacontenttype":"application/json","data_base64":""#
            + encoded + #""}"#
        for (name, value) in [("reordered", reordered), ("escaped", escaped), ("base64", base64)] {
            let decoded = try decoder.decode(record(value: value)).get()
            #expect(decoded.payload(as: PaymentRequested.self) == requested, "\(name)")
            #expect(decoded.envelope.id == "evt-1", "\(name)")
        }
        let fromReordered = try decoder.decode(record(value: reordered)).get().envelope
        #expect(fromReordered.extensions == ["region": "eu"])
        #expect(fromReordered.time == Date(timeIntervalSince1970: 1_742_000_001.5))
        let fromEscaped = try decoder.decode(record(value: escaped)).get().envelope
        #expect(fromEscaped.source == #"/payments/"checkout""#)
        #expect(fromEscaped.subject == "line\nbreak")
        #expect(fromEscaped.extensions == ["priority": "3"])
        // A Dabba-written value with escapes reads back the same.
        var metadata = metadata()
        metadata.subject = "ord \"7731\"\t\\"
        let written = try producer(.structured).message(for: requested, metadata: metadata)
        #expect(try decoder.decode(record(written)).get().envelope.subject == "ord \"7731\"\t\\")
    }

    @Test("broken structured records fail with the general reader's reason, never half-decoded")
    func broken() throws {
        let cases: [(String, EventDecodingError.Code, String)] = [
            (#"{"specversion":"1.0","source":"/s","type":"payments.payment.requested","data":{}}"#, .invalidEnvelope, #"no "id""#),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"payments.payment.requested","data":{"amount":}}"#, .invalidEnvelope, "not valid JSON"),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"payments.payment.requested","data":{"amount":1}"#, .invalidEnvelope, "not valid JSON"),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"payments.payment.requested","data":{"amount":1}}"#, .invalidPayload, "missing field"),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"payments.payment.requested","time":"yesterday","data":{}}"#, .invalidEnvelope, "RFC 3339"),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"shop.unknown","data":{}}"#, .unknownEventType, "shop.unknown"),
            (#"{"specversion":"1.0","id":"e","source":"/s","type":"payments.payment.requested","data":"#, .invalidEnvelope, "not valid JSON"),
        ]
        for (value, code, reason) in cases {
            let error = try #require(throws: EventDecodingError.self) { try decoder.decode(record(value: value)).get() }
            #expect(error.code == code, "\(value)")
            #expect(error.description.contains(reason), "\(value): \(error)")
        }
    }
}
