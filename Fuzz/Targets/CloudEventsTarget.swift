import DabbaEvents
import DabbaKafka
import Foundation

extension FuzzTarget {
    /// A record (``FuzzRecord`` text) through `EventDecoder.decode` and `EventDecoder.readEnvelope`.
    public static let cloudEvents = FuzzTarget(
        name: "cloudevents",
        summary: "a Kafka record (headers and value): CloudEvents binary/structured decoding into registered types",
        run: CloudEventsTarget.run,
        generate: CloudEventsTarget.generate,
        tokens: CloudEventsTarget.tokens
    )
}

enum CloudEventsTarget {
    static let decoder = EventDecoder(registry: EventRegistry([FuzzOrderPlaced.self, FuzzPing.self]))

    static func run(_ input: [UInt8]) throws {
        let record = FuzzRecord(parsing: input)
        let message = record.message()
        let read = EventDecoder.readEnvelope(message)
        switch decoder.decode(message) {
        case .success(let event):
            // A decodable record has a readable envelope, and it is the event's.
            guard case .success(let (envelope, _)) = read else {
                throw FuzzFailure("decode succeeded but readEnvelope failed: \(read)")
            }
            try check(
                event.envelope == envelope, "decode's envelope \(event.envelope) is not readEnvelope's \(envelope)")
            try check(event.eventType == envelope.type, "event type \(event.eventType) but envelope \(envelope.type)")
            let payload = event.payload
            try check(
                type(of: payload).eventType == event.eventType,
                "payload \(type(of: payload)) for event type \(event.eventType)"
            )
        case .failure(let error):
            try check(
                error.topic == "fuzz.records" && error.partition == 3 && error.offset == 42,
                "error names the wrong record: \(error)"
            )
            try check(!error.reason.isEmpty, "error without a reason: \(error.code)")
            if error.code == .invalidEnvelope {
                try check(!read.isSuccess, "decode found the envelope invalid, readEnvelope read it: \(error)")
            }
        }
        if case .success(let (envelope, _)) = read, !isStructured(record) {
            try checkBinaryRoundTrip(envelope, record: record)
        }
    }

    private static func isStructured(_ record: FuzzRecord) -> Bool {
        // The last content-type header decides, as it does for the decoder.
        guard let contentType = record.headers.last(where: { $0.name == "content-type" })?.stringValue else {
            return false
        }
        return contentType.lowercased().contains("cloudevents")
    }

    /// Binary-mode headers written back from the envelope read the same envelope (`ce_time` at millisecond
    /// precision: Dabba writes milliseconds).
    private static func checkBinaryRoundTrip(_ envelope: EventEnvelope, record: FuzzRecord) throws {
        let written = KafkaMessage.inMemory(topic: "fuzz.records", value: record.value, headers: envelope.binaryHeaders)
        guard case .success(let (again, _)) = EventDecoder.readEnvelope(written) else {
            throw FuzzFailure("the headers written for \(envelope) do not read back: \(envelope.binaryHeaders)")
        }
        var expected = envelope
        var actual = again
        if let time = envelope.time, let timeAgain = again.time, RFC3339Target.formattable.contains(time) {
            let difference = time.timeIntervalSince1970 - timeAgain.timeIntervalSince1970
            try check(difference > -0.000_001 && difference < 0.001_001, "ce_time moved from \(time) to \(timeAgain)")
            expected.time = nil
            actual.time = nil
        } else if envelope.time != nil {
            // Outside 0000...9999 the written time is clamped.
            expected.time = nil
            actual.time = nil
        }
        try check(actual == expected, "binary headers round trip changed \(expected) into \(actual)")
    }

    static let tokens =
        [
            "ce_specversion: 1.0\n", "ce_id: ", "ce_source: /fuzz\n", "ce_type: fuzz.ping\n",
            "ce_type: fuzz.order.placed\n",
            "ce_time: ", "content-type: application/cloudevents+json\n",
            "content-type: application/json; charset=utf-8\n",
            "ce_dataschema: urn:dabba:schema:fuzz.ping:1\n", "traceparent: ", "ce_correlationid: ", "ce_x: ", "\n\n",
            "\\x00",
            "\"data_base64\":", "\"data\":", "\"specversion\":\"1.0\"", "\"datacontenttype\":",
        ] + JSONGenerator.tokens

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        let type = random.pick(["fuzz.order.placed", "fuzz.ping", "fuzz.unknown", ""])
        let payload =
            type == "fuzz.ping" || random.oneIn(4) ? JSONGenerator.ping(&random) : JSONGenerator.orderPlaced(&random)
        let id = random.pick(["evt-1", "", "é\\x00x", "evt-\(random.below(100))"])
        let time = random.oneIn(3) ? nil : JSONGenerator.timestamp(&random)
        let contentType = random.pick([nil, "application/json", "Application/JSON ; charset=utf-8", "text/plain", ""])
        var record = FuzzRecord(value: Array(payload.utf8))
        if random.oneIn(3) {
            // Structured mode: the attributes in the value.
            var members = [
                ("specversion", random.pick(["\"1.0\"", "\"0.3\"", "1"])), ("id", "\"\(id)\""), ("source", "\"/fuzz\""),
                ("type", "\"\(type)\""), ("correlationid", JSONGenerator.string(&random)),
                ("ext", JSONGenerator.value(&random, depth: 1)),
            ]
            if let time { members.append(("time", "\"\(time)\"")) }
            if let contentType { members.append(("datacontenttype", "\"\(contentType)\"")) }
            if random.oneIn(3) {
                members.append(("data_base64", random.pick(["\"eyJhIjoxfQ==\"", "\"!!\"", "\"\""])))
            } else {
                members.append(("data", payload))
            }
            record.value = Array(JSONGenerator.object(members, &random).utf8)
            record.headers = [
                KafkaHeader(
                    name: "content-type",
                    string: random.pick(["application/cloudevents+json", "APPLICATION/CLOUDEVENTS+JSON; charset=utf-8"])
                )
            ]
            if random.oneIn(2) { record.headers.append(KafkaHeader(name: "traceparent", string: "00-abc-def-01")) }
        } else {
            var headers = [
                ("ce_specversion", random.pick(["1.0", "1.0", "1.1", ""])), ("ce_id", id),
                ("ce_source", "/fuzz/\(random.below(9))"),
                ("ce_type", type), ("ce_subject", "ord_1"),
                ("ce_dataschema", "urn:dabba:schema:\(type):\(random.below(3))"),
                ("ce_correlationid", random.pick([id, "corr-1"])), ("ce_causationid", "evt-0"),
                ("traceparent", "00-1-2-01"),
                ("ce_\(random.pick(["tenant", "traceparent", "tracestate", "x"]))", "t1"),
            ]
            if let time { headers.append(("ce_time", time)) }
            if let contentType { headers.append(("content-type", contentType)) }
            headers.shuffle(using: &random)
            record.headers = headers.filter { _ in !random.oneIn(10) }.map { KafkaHeader(name: $0.0, string: $0.1) }
            if random.oneIn(8) { record.headers.append(KafkaHeader(name: "ce_id", value: nil)) }
        }
        if random.oneIn(10) { record.value = nil }
        if random.oneIn(4) { record.key = Array("ord_\(random.below(10))".utf8) }
        return Mutation.mutate(record.text, tokens: tokens, &random)
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
