import DabbaKafka
import Foundation

extension ConsolePages {
    /// A consumer group on a topic: members, per partition committed and end offsets, lag in records and in
    /// seconds, a short trend, and the offset-reset form.
    func group(_ query: [String: String]) async throws -> String {
        let group = try Self.required(query, "id", "the consumer group")
        let topic = try Self.required(query, "topic", "the topic")
        let admin = model.admin
        let timeout = model.configuration.timeout
        let described: ConsumerGroupDescription?
        var unsupported: String?
        do {
            described = try await admin.describeConsumerGroup(group, timeout: timeout)
        } catch let error as KafkaError where error.code == .unsupportedByBroker {
            described = nil
            unsupported = error.message
        }
        let lags = try await admin.groupLag(group: group, topics: [topic], timeout: timeout)
        var body = HTML.facts([
            ("State", "<span id=\"group-state\">\(HTML.escape(described?.state ?? "unknown"))</span>"),
            ("Members", "<span id=\"member-count\">\(described.map { String($0.members.count) } ?? "unknown")</span>"
                + (unsupported.map { " <span class=\"muted\">(\(HTML.escape($0)))</span>" } ?? "")),
            ("Topic", Self.topicLink(topic)),
            ("Service", HTML.escape(catalog.consumerGroup(group, onTopic: topic)?.service ?? "–")),
            ("Lag trend", "<span class=\"spark\" id=\"lag-trend\">\(Self.sparkline(model.lagTrend(group: group, topic: topic).map(\.value)))</span>"),
        ])
        if let described, !described.members.isEmpty {
            body += "<h2>Members</h2>" + HTML.table(
                id: "members", headers: ["Client id", "Member id", "Host", "Partitions"],
                rows: described.members.map {
                    [HTML.escape($0.clientID), HTML.escape($0.memberID), HTML.escape($0.host),
                     HTML.escape($0.assignment.map { "\($0.partition)" }.joined(separator: ", "))]
                })
        }
        // Lag in seconds: how old the oldest record not yet committed is (its timestamp against now).
        let reader = try model.makeReader()
        let oldest = try await reader.messages(
            from: lags.compactMap { lag in
                guard lag.lag > 0 else { return nil }
                return TopicPartitionOffset(topic: topic, partition: lag.partition, offset: lag.committed ?? lag.lowWatermark)
            }, limitPerPartition: 1, timeout: timeout * 3)
        let now = Date().timeIntervalSince1970 * 1000
        body += "<h2>Partitions</h2>" + HTML.table(
            id: "partitions", headers: ["Partition", "Committed", "End", "Lag", "Lag (seconds)"],
            rows: lags.map { lag in
                let stamp = oldest.first { $0.partition == lag.partition }?.timestampMilliseconds
                let seconds = lag.lag > 0 ? stamp.map { String(format: "%.1f", max(0, (now - Double($0)) / 1000)) } ?? "–" : "0"
                return [String(lag.partition), lag.committed.map(String.init) ?? "–", String(lag.highWatermark), String(lag.lag), seconds]
            }, rowIDs: lags.map { "p\($0.partition)" })
        body += resetForm(group: group, topic: topic, description: described, query: query)
        return page("Group \(group)", section: "Overview", body)
    }

    private func resetForm(group: String, topic: String, description: ConsumerGroupDescription?, query: [String: String]) -> String {
        var html = "<h2>Reset offsets</h2>" + actionsNote
        if let description, !description.isEmpty {
            html += HTML.notice(
                "warn",
                "The group has \(description.members.count) active member(s): "
                    + HTML.escape(description.members.map(\.description).joined(separator: "; "))
                    + ". A reset is refused until they stop.", id: "reset-refusal")
        }
        let options = OffsetResetTarget.kinds.map { "<option value=\"\($0)\">\($0)</option>" }.joined()
        html += """
            <form method="post" action="/group/reset" id="reset-form"><fieldset>\(csrfField)
            <input type="hidden" name="group" value="\(HTML.escape(group))">
            <input type="hidden" name="topic" value="\(HTML.escape(topic))">
            <label>To <select name="kind" id="reset-kind">\(options)</select></label>
            <label>Value <input name="value" id="reset-value" placeholder="time, offset or shift"></label>
            <label>Type the group id to apply <input name="confirm" id="reset-confirm"></label>
            <button type="submit" name="mode" value="preview" class="secondary" id="reset-preview">Preview</button>
            <button type="submit" name="mode" value="apply" id="reset-apply">Apply</button>
            </fieldset></form>
            """
        return html
    }

    /// Previews an offset reset (the dry run), or applies it when confirmed; refused while the group has members.
    func resetOffsets(_ form: [String: String]) async throws -> String {
        let group = try Self.required(form, "group", "the consumer group")
        let topic = try Self.required(form, "topic", "the topic")
        let target: OffsetResetTarget
        do {
            target = try OffsetResetTarget(kind: try Self.required(form, "kind", "the reset target"), value: form["value"])
        } catch let error as KafkaError {
            throw ConsoleError(.badRequest, error.message)
        }
        let admin = model.admin
        let timeout = model.configuration.timeout
        let plan = try await admin.planOffsetReset(group: group, topics: [topic], to: target, timeout: timeout)
        var body = HTML.table(
            id: "reset-plan", headers: ["Partition", "Committed", "New", "Lag after"],
            rows: plan.map { [String($0.partition), $0.current.map(String.init) ?? "–", String($0.target), String($0.lagAfter)] })
        let back = Self.groupLink(group, topic: topic)
        guard form["mode"] == "apply" else {
            body = HTML.notice("ok", "Dry run: group \(HTML.escape(group)) would move to \(HTML.escape(target.description)). Nothing changed.", id: "reset-result") + body
            return page("Reset preview: \(group)", section: "Overview", body + "<p>Back to \(back)</p>")
        }
        guard form["confirm"]?.trimmingCharacters(in: .whitespaces) == group else {
            throw ConsoleError(.badRequest, "type the group id '\(group)' in the confirmation field to apply a reset")
        }
        do {
            try await admin.alterConsumerGroupOffsets(
                group: group, to: plan.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.target) },
                timeout: timeout)
        } catch let error as KafkaError where error.code == .groupNotEmpty {
            model.record("reset-offsets refused", "\(group) on \(topic): \(error.message)")
            let refused = HTML.notice("error", HTML.escape("Refused: \(error.message)"), id: "reset-result")
            return page("Reset refused: \(group)", section: "Overview", refused + body + "<p>Back to \(back)</p>")
        }
        model.record("reset-offsets", "\(group) on \(topic) to \(target): " + plan.map { "\($0.partition):\($0.target)" }.joined(separator: " "))
        body = HTML.notice("ok", "Applied: group \(HTML.escape(group)) moved to \(HTML.escape(target.description)).", id: "reset-result") + body
        return page("Reset applied: \(group)", section: "Overview", body + "<p>Back to \(back)</p>")
    }
}
