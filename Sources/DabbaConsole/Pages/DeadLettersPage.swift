import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaSchema
import Foundation

extension ConsolePages {
    /// The dead-letter topics of the catalog: records grouped by error type × event type × group with counts and
    /// first and last seen, the most recent records, and the replay form.
    func deadLetters(_ query: [String: String]) async throws -> String {
        struct Group: Hashable {
            var errorType: String
            var eventType: String
            var group: String
            var topic: String
        }
        var groups: [Group: (count: Int, first: Date?, last: Date?)] = [:]
        var recent: [(RecordRow, DeadLetterRecord)] = []
        for topic in catalog.allTopics {
            guard case .deadLetter = topic.kind else { continue }
            let rows: [RecordRow]
            do {
                rows = try await model.recentRecords(of: topic.name)
            } catch let error as ConsoleError where error.code == .notFound {
                continue
            }
            for row in rows {
                let record = DeadLetterRecord(row.message)
                let key = Group(
                    errorType: record.errorType ?? "–", eventType: record.eventType ?? "–",
                    group: record.consumerGroup ?? "–", topic: topic.name)
                var entry = groups[key] ?? (0, nil, nil)
                entry.count += 1
                if let time = record.failureTime {
                    entry.first = min(entry.first ?? time, time)
                    entry.last = max(entry.last ?? time, time)
                }
                groups[key] = entry
                recent.append((row, record))
            }
        }
        let time: (Date?) -> String = { $0.map { HTML.escape(RFC3339.format($0)) } ?? "–" }
        var body = "<h2>By error, event type and group</h2>"
        body += HTML.table(
            id: "dead-letter-groups", headers: ["Error type", "Event type", "Group", "Topic", "Records", "First seen", "Last seen"],
            rows: groups.sorted { $0.value.count > $1.value.count }.map { key, value in
                [HTML.escape(key.errorType), HTML.escape(key.eventType), HTML.escape(key.group), Self.topicLink(key.topic),
                 String(value.count), time(value.first), time(value.last)]
            })
        body += "<h2>Records</h2>" + HTML.table(
            id: "dead-letter-records", headers: ["Failed at", "Record", "Event", "Original", "Error", "Attempts", "Replays"],
            rows: recent.prefix(100).map { row, record in
                let detail = "/dead-letters/record?topic=\(HTML.urlComponent(row.message.topic))&partition=\(row.message.partition)&offset=\(row.message.offset)"
                return [
                    time(record.failureTime), HTML.link(row.position, detail),
                    HTML.escape("\(record.eventType ?? "–") \(record.eventID ?? "")"),
                    HTML.escape("\(record.originalTopic ?? "?")[\(record.originalPartition.map(String.init) ?? "?")]@\(record.originalOffset.map(String.init) ?? "?")"),
                    HTML.escape("\(record.errorType ?? "") \(record.errorMessage ?? "")"),
                    record.attempts.map(String.init) ?? "–", "<span class=\"replays\">\(record.replayCount)</span>",
                ]
            }, rowIDs: recent.prefix(100).map { $0.0.position })
        body += replayForm(topics: catalog.allTopics.filter { if case .deadLetter = $0.kind { true } else { false } }.map(\.name), query: query)
        return page("Dead letters", section: "Dead letters", body)
    }

    private func replayForm(topics: [String], query: [String: String]) -> String {
        let options = topics.map { "<option\($0 == query["topic"] ? " selected" : "")>\(HTML.escape($0))</option>" }.joined()
        return """
            <h2>Replay to the original topic</h2>\(actionsNote)
            <p class="muted">The same rule as <code>dabba dlq replay</code>: records go back to their original topic with
            <code>dabba-replay-count</code> incremented; a record already replayed and dead-lettered again is skipped (the loop
            guard); progress is kept in the group <code>dabba-dlq-replay.&lt;topic&gt;</code>, so a record is replayed once.</p>
            <form method="post" action="/dead-letters/replay" id="replay-form"><fieldset>\(csrfField)
            <label>Dead-letter topic <select name="topic" id="replay-topic">\(options)</select></label>
            <label>Error type <input name="errorType" id="replay-error-type"></label>
            <label>Event type <input name="eventType" id="replay-event-type"></label>
            <label>Key <input name="key" id="replay-key"></label>
            <label>Event id <input name="eventId" id="replay-event-id"></label>
            <label>Confirm (type <code>replay N</code> with the dry run's count) <input name="confirm" id="replay-confirm"></label>
            <button type="submit" name="mode" value="dry-run" class="secondary" id="replay-dry-run">Dry run</button>
            <button type="submit" name="mode" value="apply" id="replay-apply">Replay</button>
            </fieldset></form>
            """
    }

    /// One dead-letter record in full, with the schema rule its payload breaks and an edit-and-replay form.
    func deadLetterRecord(_ query: [String: String]) async throws -> String {
        let row = try await record(at: query)
        let record = DeadLetterRecord(row.message)
        var body = HTML.facts([
            ("Record", "<code>\(HTML.escape(row.position))</code>"),
            ("Original", HTML.escape("\(record.originalTopic ?? "?")[\(record.originalPartition.map(String.init) ?? "?")]@\(record.originalOffset.map(String.init) ?? "?")")),
            ("Group", HTML.escape(record.consumerGroup ?? "–")), ("Attempts", record.attempts.map(String.init) ?? "–"),
            ("Error", HTML.escape("\(record.errorType ?? "") \(record.errorMessage ?? "")")),
            ("Replays", "<span id=\"replay-count\">\(record.replayCount)</span>"),
            ("Event", HTML.escape("\(record.eventType ?? "–") \(record.eventID ?? "")")),
            ("Flow", row.envelope?.correlationID.map { Self.flowLink($0) } ?? "–"),
            ("Schema", row.violations.isEmpty ? (row.typeKnown ? "valid" : "type not in catalog")
                : HTML.escape(RecordRow.describe(row.violations))),
        ], id: "dead-letter-detail")
        body += "<h2>Headers</h2>" + HTML.table(
            id: "headers", headers: ["Name", "Value"],
            rows: record.headers.map { [HTML.escape($0.name), HTML.escape($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "null")] })
        body += "<h2>Edit and replay</h2>" + actionsNote + """
            <form method="post" action="/dead-letters/replay" id="edit-form"><fieldset>\(csrfField)
            <input type="hidden" name="mode" value="edit">
            <input type="hidden" name="topic" value="\(HTML.escape(row.message.topic))">
            <input type="hidden" name="partition" value="\(row.message.partition)">
            <input type="hidden" name="offset" value="\(row.message.offset)">
            <textarea name="payload" id="edit-payload">\(HTML.escape(String(decoding: row.payload, as: UTF8.self)))</textarea>
            <button type="submit" id="edit-replay">Validate and replay</button></fieldset></form>
            """
        return page("Dead letter \(row.position)", section: "Dead letters", body)
    }

    /// The record at `topic`, `partition`, `offset` of a query or form.
    private func record(at fields: [String: String]) async throws -> RecordRow {
        let topic = try Self.required(fields, "topic", "the dead-letter topic")
        guard let partition = Int32(try Self.required(fields, "partition", "the partition")),
            let offset = Int64(try Self.required(fields, "offset", "the offset"))
        else { throw ConsoleError(.badRequest, "partition and offset must be numbers") }
        let reader = try model.makeReader()
        let found = try await reader.messages(
            from: [TopicPartitionOffset(topic: topic, partition: partition, offset: offset)], limitPerPartition: 1,
            timeout: model.configuration.timeout)
        guard let message = found.first, message.offset == offset else {
            throw ConsoleError(.notFound, "\(topic)[\(partition)]@\(offset) is not in the log")
        }
        return RecordRow(message, catalog: catalog)
    }

    /// Replays dead letters: a dry run counts what a filter selects; an apply (confirmed with `replay N`) replays
    /// them through the shared rule; an edit replays one record with a new payload, only if it passes the schema.
    func replay(_ form: [String: String]) async throws -> String {
        if form["mode"] == "edit" { return try await editAndReplay(form) }
        let topic = try Self.required(form, "topic", "the dead-letter topic")
        guard case .deadLetter = catalog.topic(named: topic)?.kind else {
            throw ConsoleError(.badRequest, "'\(topic)' is not a dead-letter topic of the catalog")
        }
        func text(_ name: String) -> String? { form[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        let rule = DeadLetterReplay(
            filter: DeadLetterFilter(errorType: text("errorType"), key: text("key"), eventType: text("eventType"), eventID: text("eventId")))
        let apply = form["mode"] == "apply"
        // A dry run reads from the replay group's position without moving it: the count is what an apply replays.
        let group = DeadLetterReplay.progressGroup(of: topic)
        var selected: [(String, String)] = []
        var guarded: [String] = []
        var unroutable: [String] = []
        if apply {
            // The confirmation names the count of a dry run; check it against a fresh one before changing anything.
            let count = try await countReplayable(topic: topic, rule: rule, group: group)
            guard text("confirm") == "replay \(count)" else {
                throw ConsoleError(.badRequest, "type 'replay \(count)' in the confirmation field to replay the \(count) selected record(s)")
            }
        }
        func read(sendingWith producer: KafkaProducer?) async throws {
            try await DeadLetterReader.read(
                topic: topic, group: apply ? group : Self.previewGroup(group), commits: apply, client: model.configuration.client,
                timeout: model.configuration.timeout, logger: model.logger,
                startingAt: apply ? nil : group
            ) { record in
                let position = "\(topic)[\(record.message.partition)]@\(record.message.offset)"
                switch rule.decide(record) {
                case .notMatching: break
                case .loopGuarded(let replays): guarded.append("\(position) (replayed \(replays) time(s), failed again)")
                case .unroutable: unroutable.append(position)
                case .replay(let destination):
                    if let producer {
                        let report = try await producer.send(record.replay(to: destination))
                        selected.append((position, "\(destination)[\(report.partition)]@\(report.offset)"))
                    } else {
                        selected.append((position, destination))
                    }
                }
                return true
            }
        }
        if apply {
            try await model.withProducer { try await read(sendingWith: $0) }
        } else {
            try await read(sendingWith: nil)
        }
        if apply {
            model.record("dlq-replay", "\(topic): replayed \(selected.count), loop guard skipped \(guarded.count)")
        }
        var body = HTML.notice(
            guarded.isEmpty && unroutable.isEmpty ? "ok" : "warn",
            (apply ? "Replayed" : "Dry run: would replay") + " <span id=\"replay-selected\">\(selected.count)</span> record(s); "
                + "<span id=\"replay-guarded\">\(guarded.count)</span> skipped by the loop guard"
                + (unroutable.isEmpty ? "" : "; \(unroutable.count) without an original topic")
                + (apply ? "." : ". To replay them, type <code>replay \(selected.count)</code> in the confirmation field."),
            id: "replay-result")
        body += HTML.table(id: "replay-records", headers: ["Record", apply ? "Sent to" : "Would go to"], rows: selected.map { [HTML.escape($0.0), HTML.escape($0.1)] })
        if !guarded.isEmpty { body += "<h2>Skipped by the loop guard</h2><ul>" + guarded.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>" }
        return page(apply ? "Replayed" : "Replay dry run", section: "Dead letters", body + "<p>" + HTML.link("Back to dead letters", "/dead-letters") + "</p>")
    }

    /// A throwaway group name for a dry run (it reads from the replay group's committed position).
    static func previewGroup(_ group: String) -> String { "\(group).preview-\(UUID().uuidString.lowercased())" }

    private func countReplayable(topic: String, rule: DeadLetterReplay, group: String) async throws -> Int {
        var count = 0
        try await DeadLetterReader.read(
            topic: topic, group: Self.previewGroup(group), commits: false, client: model.configuration.client,
            timeout: model.configuration.timeout, logger: model.logger, startingAt: group
        ) { record in
            if case .replay = rule.decide(record) { count += 1 }
            return true
        }
        return count
    }

    private func editAndReplay(_ form: [String: String]) async throws -> String {
        let row = try await record(at: form)
        let record = DeadLetterRecord(row.message)
        guard let destination = record.originalTopic else {
            throw ConsoleError(.badRequest, "\(row.position) has no original-topic header: nowhere to replay it")
        }
        guard record.replayCount < 1 else {
            throw ConsoleError(.badRequest, "\(row.position) was replayed \(record.replayCount) time(s) and failed again: the loop guard stops it")
        }
        let text = form["payload"] ?? ""
        let payload: JSONValue
        do {
            payload = try JSONValue.parse(text)
        } catch {
            throw ConsoleError(.badRequest, "the edited payload is not JSON: \(error)")
        }
        if let spec = record.eventType.flatMap(catalog.event(named:)) {
            try Self.requireValid(payload, for: spec, "the edited payload")
        }
        var message = record.replay(to: destination)
        message.value = Array(payload.serialized())
        let report = try await model.withProducer { try await $0.send(message) }
        model.record("dlq-edit-replay", "\(row.position) → \(destination)[\(report.partition)]@\(report.offset)")
        let body = HTML.notice("ok", "Replayed \(HTML.escape(row.position)) with the edited payload to \(HTML.escape("\(destination)[\(report.partition)]@\(report.offset)")).", id: "replay-result")
        return page("Replayed", section: "Dead letters", body + "<p>" + HTML.link("Back to dead letters", "/dead-letters") + "</p>")
    }
}
