import DabbaCatalog
import DabbaKafka
import Foundation
import Hummingbird
import NIOCore

extension ConsolePages {
    /// The query fields a Messages page reads (kept in links and in the live tail's URL).
    static let messageQueryKeys = ["topic", "key", "type", "subject", "header", "since", "until", "pointer", "value"]

    /// A topic's recent records as CloudEvents, filtered; with a live tail of new ones.
    func messages(_ query: [String: String]) async throws -> String {
        let topics = catalog.allTopics.map(\.name)
        let topic = query["topic"].flatMap { $0.isEmpty ? nil : $0 } ?? topics.first ?? ""
        let filter = try MessageFilter(query: query)
        var body = filterForm(query, topic: topic, topics: topics)
        guard !topic.isEmpty else { return page("Messages", section: "Messages", body) }
        let rows = try await model.recentRecords(of: topic, since: filter.since).filter(filter.matches)
        var tailQuery = query
        tailQuery["topic"] = topic
        let tailURL = "/messages/tail?" + MessageFilter.queryString(tailQuery, keys: Self.messageQueryKeys)
        body += "<p class=\"muted\" data-tail=\"\(HTML.escape(tailURL))\"><span id=\"tail-status\">live tail: needs JavaScript</span>"
            + " · <span id=\"match-count\">\(rows.count)</span> matching record(s) of the last \(model.configuration.recordsPerPartition) per partition</p>"
        body += HTML.table(
            id: "messages", headers: Self.messageColumns, rows: rows.map(Self.cells), rowIDs: rows.map(\.position))
        return page("Messages", section: "Messages", body)
    }

    static let messageColumns = ["Time", "Position", "Key", "Type", "Subject", "Id", "Source", "Correlation", "Trace", "Schema", "Payload"]

    /// A row's cells, HTML.
    static func cells(_ row: RecordRow) -> [String] {
        let envelope = row.envelope
        let schema: String
        if let problem = row.envelopeProblem {
            schema = "<span class=\"badge bad\">not a CloudEvent</span> \(HTML.escape(problem))"
        } else if !row.typeKnown {
            schema = "<span class=\"badge\">type not in catalog</span>"
        } else if row.violations.isEmpty {
            schema = "<span class=\"badge good\">valid</span>"
        } else {
            schema = "<span class=\"badge bad\">invalid</span> " + HTML.escape(RecordRow.describe(row.violations))
        }
        let payload = String(decoding: row.payload.prefix(400), as: UTF8.self)
        return [
            HTML.escape(HTML.time(row.timestamp)), "<code>\(HTML.escape(row.position))</code>", HTML.escape(row.message.keyString ?? "–"),
            HTML.escape(envelope?.type ?? "–"), "<span class=\"subject\">\(HTML.escape(envelope?.subject ?? "–"))</span>",
            HTML.escape(envelope?.id ?? "–"), HTML.escape(envelope?.source ?? "–"),
            envelope?.correlationID.map { flowLink($0) } ?? "–", HTML.escape(row.traceID ?? "–"), schema,
            "<code>\(HTML.escape(payload))</code>",
        ]
    }

    private func filterForm(_ query: [String: String], topic: String, topics: [String]) -> String {
        func field(_ name: String, _ label: String, _ placeholder: String) -> String {
            "<label>\(label) <input name=\"\(name)\" id=\"filter-\(name)\" value=\"\(HTML.escape(query[name] ?? ""))\" placeholder=\"\(HTML.escape(placeholder))\"></label>"
        }
        let options = topics.map { "<option\($0 == topic ? " selected" : "")>\(HTML.escape($0))</option>" }.joined()
        return """
            <form method="get" action="/messages" id="filters"><fieldset>
            <label>Topic <select name="topic" id="filter-topic">\(options)</select></label>
            \(field("key", "Key", "exact key"))\(field("type", "Type", "event type"))\(field("subject", "Subject", "ce_subject"))
            \(field("header", "Header", "name=value"))\(field("since", "From", "2026-12-07T10:00:00Z"))\(field("until", "To", "RFC 3339"))
            \(field("pointer", "JSON pointer", "/orderId"))\(field("value", "equals", "value at the pointer"))
            <button type="submit" id="filter-apply">Show</button></fieldset></form>
            """
    }

    /// Server-sent events: every new record of the topic that matches the filter, as it arrives (one `record`
    /// event each, with the row's cells as JSON), polling the topic's ends every half second.
    func tail(_ query: [String: String]) -> Response {
        let model = self.model
        let catalog = self.catalog
        guard let topic = query["topic"], !topic.isEmpty, let filter = try? MessageFilter(query: query) else {
            return Response(status: .badRequest, body: ResponseBody(byteBuffer: ByteBuffer(string: "topic and a valid filter are needed\n")))
        }
        let body = ResponseBody { writer in
            let reader = try model.makeReader()
            var positions = try await reader.partitionEnds(topic: topic, timeout: model.configuration.timeout)
            try await writer.write(ByteBuffer(string: ": following \(topic)\n\n"))
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(500))
                let messages = try await reader.messages(from: positions, timeout: model.configuration.timeout)
                for message in messages {
                    if let index = positions.firstIndex(where: { $0.partition == message.partition }) {
                        positions[index].offset = max(positions[index].offset, message.offset + 1)
                    }
                    let row = RecordRow(message, catalog: catalog)
                    guard filter.matches(row) else { continue }
                    let event: [String: Any] = ["position": row.position, "cells": Self.cells(row)]
                    let data = (try? JSONSerialization.data(withJSONObject: event)) ?? Data("{}".utf8)
                    try await writer.write(ByteBuffer(string: "event: record\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
                }
                // A comment keeps the connection alive through proxies and shows a closed one.
                try await writer.write(ByteBuffer(string: ": tick\n\n"))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }
}
