import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Testing

/// Dead letters of structured-mode events: their type and id are in the value, not in `ce_` headers.
@Suite("Dead letters in structured mode")
struct StructuredDeadLetterTests {
    @Test("a structured dead letter shows its event type and id, and filters by them")
    func typeAndID() {
        let value = #"{"specversion":"1.0","id":"evt-9","source":"/shop","type":"shop.order.placed","data":{"orderId":"o1"}}"#
        let message = KafkaMessage.inMemory(
            topic: "shop.orders.dlq", key: Array("o1".utf8), value: Array(value.utf8),
            headers: [
                KafkaHeader(name: "content-type", string: "application/cloudevents+json"),
                KafkaHeader(name: "kafka_dlt-original-topic", string: "shop.orders"),
            ]
        )
        let record = DeadLetterRecord(message)
        #expect(record.eventType == "shop.order.placed")
        #expect(record.eventID == "evt-9")
        #expect(DeadLetterFilter(eventType: "shop.order.placed").matches(record))
        #expect(DeadLetterFilter(eventID: "evt-9").matches(record))
        #expect(!DeadLetterFilter(eventID: "evt-8").matches(record))
        // Replayed as it was: still structured, without the dead-letter headers.
        let replayed = record.replay(to: "shop.orders")
        #expect(replayed.value == Array(value.utf8))
        #expect(replayed.headers.map(\.name).contains("content-type"))
        #expect(!replayed.headers.map(\.name).contains("kafka_dlt-original-topic"))
    }
}
