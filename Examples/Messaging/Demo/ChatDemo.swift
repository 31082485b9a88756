// chat-demo (`make demo DEMO=messaging`): WhatsApp-style messaging on one machine. Starts the embedded broker with
// the catalog's chat.* topics and the five services as separate processes, creates the groups (one of 1,000
// members), connects a quarter of the users, and sends a load like the seed's (58% one-to-one, 25% group, 10%
// status, malformed input, resends of the same message id) while users flap, lose their connection, are removed
// from a group at the same moment as a message, and a New Year burst of ten times the rate arrives; with --chaos the
// mailbox is SIGKILLed in the middle of a large flush and restarted. At the end nearly everyone reconnects; the demo
// checks every delivery against the membership rules replayed over the log and the stores, prints a summary and one
// line:
//   dabba-demo system=messaging messages=… deliveries=… missing=… duplicate_deliveries=… order_violations=… leaked=…
//   undelivered_online=… stuck=… duplicate_effects=… p99_ms=… messages_per_s=… deliveries_per_s=…
// With --rate 0 the load goes as fast as the broker acknowledges it (the flapping, the removals, the large group and
// the reconnects follow the base load without pauses), and messages_per_s and deliveries_per_s measure the system.
// It exits 1 when an invariant fails (see Examples/README.md).
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import MessagingDomain
import MessagingRuntime

@main
struct ChatDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-demo",
        abstract: "Runs the messaging services through a day of chats and a New Year burst, and checks every delivery."
    )

    @Option(help: "Messages and statuses at the base rate (plus resends).")
    var messages = 1200

    @Option(
        help: "Messages per second at the base rate (0: everything as fast as the broker acknowledges it, to measure throughput; what happens alongside the base load then follows it without pauses)."
    )
    var rate: Double = 20

    @Option(
        name: .customLong("burst-messages"),
        help: "Messages in the New Year burst, sent at ten times the rate (flat out at rate 0).")
    var burstMessages = 600

    @Option(name: .customLong("small-groups"), help: "Groups of 3–20 members.")
    var smallGroups = 100

    @Option(name: .customLong("large-group"), help: "Members of the large group (0: none).")
    var largeGroup = 1000

    @Option(name: .customLong("large-group-messages"), help: "Messages to the large group.")
    var largeGroupMessages = 3

    @Option(help: "The random seed of the load.")
    var seed: UInt64 = 18

    @Option(help: "Seconds to wait for every delivery to finish before counting the rest as stuck.")
    var timeout: Int = 300

    @OptionGroup var workspace: DemoRunOptions

    @Flag(help: "SIGKILL the mailbox in the middle of a large flush, then restart it.")
    var chaos = false

    func validate() throws {
        if messages <= 0 { throw ValidationError("--messages must be positive, not \(messages)") }
        if !(rate >= 0) { throw ValidationError("--rate must be 0 (flat out) or positive, not \(rate)") }
        if burstMessages < 0 { throw ValidationError("--burst-messages must not be negative, not \(burstMessages)") }
        if smallGroups < 5 { throw ValidationError("--small-groups must be at least 5, not \(smallGroups)") }
        if largeGroup != 0, largeGroup < 3 || largeGroup > ChatReference.standard.userCount {
            throw ValidationError("--large-group must be 0 or 3…\(ChatReference.standard.userCount), not \(largeGroup)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "chat-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "chat-demo")
        let cluster = try await DemoCluster.start(
            workspace, prefix: "chat.", mainTopic: (chatMessagesTopic, "messaging.asyncapi.yaml"), logger: logger)
        let (broker, loaded, catalog) = (cluster.broker, cluster.catalog, workspace.catalog)
        let deadLetterTopics = cluster.deadLetterTopics
        let reference = ChatReference.standard

        DemoConsole.step("Launching the five services")
        let services = try DemoServices(names: chatServiceNames, logDirectory: directory) { name in
            demoServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos ? "demo" : nil, fetchWait: chatFetchWait)
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let events = EventProducer(producer: producer, source: "/chat-loadgen", routes: EventRoutes(catalog: loaded))
        let clients = ChatClients(events: events)
        let observer = try ChatObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetterTopics, reference: reference, logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "messages")

        let clock = ContinuousClock()
        let started = clock.now
        let groups = reference.groups(small: smallGroups, largeMembers: largeGroup, seed: seed)
        let smallOnes = groups.filter { $0.groupId != ChatReference.largeGroup }
        DemoConsole.step(
            "Creating \(smallOnes.count) groups of 3–20 members\(largeGroup > 0 ? " and one of \(largeGroup)" : ""), plus two invalid group changes")
        try await clients.send(
            groups.map { .created($0.created(at: Date())) } + [
                .created(GroupCreated(groupId: "g-empty", name: "Nobody", ownerId: "u0001", members: [], createdAt: Date())),
                .added(MemberAdded(groupId: "g404", userId: "u0002", addedBy: "u0001", addedAt: Date())),
            ])

        let initiallyOnline = reference.users.filter { Self.number($0) % 4 == 1 }
        DemoConsole.step("Connecting \(initiallyOnline.count) of \(reference.userCount) users; the rest are offline and their messages wait")
        try await clients.connect(initiallyOnline)
        let keepingAlive = Task { await clients.keepAlive(reading: observer, readShare: 50) }

        var keys: [MessageKey] = []
        let load = ChatLoad(reference: reference, groups: smallOnes, seed: seed, runID: "M").actions(count: messages)
        keys += ChatLoad.distinct(load)
        let monitor = ChatMonitor(observer: observer, keys: keys)
        let watching = Task { await monitor.run(started: started) }

        let sideKeys: [MessageKey]
        let kills: Int
        if rate > 0 {
            DemoConsole.step(
                "\(messages) messages and statuses at \(Int(rate))/s (with resends and malformed ones); meanwhile users flap, lose their connection, are removed from groups, and the large group talks")
            let side = Task { () throws -> ([MessageKey], Int) in
                try await choreography(
                    clients: clients, observer: observer, groups: groups, services: services,
                    period: Double(messages) / rate)
            }
            try await clients.send(load, rate: rate)
            (sideKeys, kills) = try await side.value
        } else {
            // Flat out the base load takes about a second: what happens alongside it at a pace follows it instead,
            // so the flapping users and the reconnects still meet full mailboxes.
            DemoConsole.step("\(messages) messages and statuses flat out (with resends and malformed ones)")
            try await clients.send(load, rate: 0)
            DemoConsole.step(
                "Then, without pauses: users flap, lose their connection, are removed from groups, and the large group talks")
            (sideKeys, kills) = try await choreography(
                clients: clients, observer: observer, groups: groups, services: services, period: 0)
        }
        keys += sideKeys
        monitor.add(sideKeys)
        let malformed = try await sendMalformed(events, count: 2)

        let burst = ChatLoad(reference: reference, groups: smallOnes, seed: seed + 1, runID: "NY", greeting: true)
            .actions(count: burstMessages)
        DemoConsole.step("Midnight: a New Year burst of \(burstMessages) messages \(rate > 0 ? "at \(Int(rate * 10))/s" : "flat out")")
        keys += ChatLoad.distinct(burst)
        monitor.add(ChatLoad.distinct(burst))
        let burstStart = clock.now
        try await clients.send(burst, rate: rate * 10)
        DemoConsole.note("sent in \(String(format: "%.1f", DemoConsole.seconds(clock.now - burstStart))) s")

        let stayOffline = Set(reference.users.filter { Self.number($0) % 25 == 0 }).subtracting(clients.connected)
        let returning = reference.users.filter { !clients.connected.contains($0) && !stayOffline.contains($0) }
        DemoConsole.step(
            "Morning: \(returning.count) users come online\(rate > 0 ? ", a hundred every half second," : " at once") and their mailboxes flush; \(stayOffline.count) stay offline")
        for start in stride(from: 0, to: returning.count, by: 100) {
            try await clients.connect(Array(returning[start..<min(returning.count, start + 100)]))
            if rate > 0 { try await Task.sleep(for: .milliseconds(500)) }
        }

        DemoConsole.step("Waiting until every message is decided and every online user has everything")
        let analyticsStore = try StoreReader(path: "\(directory)/chat-analytics.sqlite")
        var settled = try await monitor.waitUntil(timeout: .seconds(timeout)) { $0.isSettled(connected: clients.connected, analytics: nil) }
        try await clients.stopReading()
        if settled {
            settled = try await monitor.waitUntil(timeout: .seconds(60)) { run in
                let totals = try? await analyticsStore.read { try ChatReport.totals($0) }
                return run.isSettled(connected: clients.connected, analytics: totals)
            }
        }
        DemoConsole.note(settled ? "settled: the stores caught up with the log" : "not settled after \(timeout) s")
        let elapsed = clock.now - started
        monitor.stop()
        await watching.value
        keepingAlive.cancel()
        await keepingAlive.value

        DemoConsole.step("Stopping the services (SIGTERM) and the broker")
        let exitCodes = await services.stopAll()
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(chatServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))

        let run = observer.snapshot(of: keys)
        let mailbox = try await StoreReader(path: "\(directory)/chat-mailbox.sqlite").read { try MailboxBook.audit($0) }
        let ticks = try await StoreReader(path: "\(directory)/chat-receipts.sqlite").read { try ReceiptsBook.ticks($0) }
        let analytics = try await analyticsStore.read { try ChatReport.totals($0) }
        let (duplicates, storeDuplicates) = try await ServiceEffects.duplicates(of: chatServiceNames, in: directory)
        let queuedInStore = mailbox.byState["queued", default: 0]
        let queuedForOnline = mailbox.queuedPerUser.keys.filter { run.online.contains($0) }.count
        let unexpectedDeadLetters = run.deadLetters.filter { !malformed.contains($0.eventID) }
        let stuck = run.undecided.count + run.missingTicks
        let fanOut = run.largeGroupFanOutPerSecond

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        say("messages                 \(keys.count) (\(run.statuses) statuses; + \(run.resends) resends of a message id, ignored; \(malformed.count) malformed records, dead-lettered)")
        say("  accepted               \(run.accepted) (\(run.groupMessages) to groups)")
        say("  rejected               \(run.rejected)  \(run.rejections.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        say("  group changes refused  \(run.groupChangesRejected)")
        say("deliveries               \(run.expectedDeliveries) of messages (one per one-to-one message, members − 1 per group message) + \(run.statusDeliveries) of statuses; fan-out \(String(format: "%.2f", analytics.fanOut)) per accepted message")
        say("  delivered              \(run.delivered) (\(run.flushed) flushed on reconnect), waiting for \(stayOffline.count) offline users \(run.waitingOffline)")
        say("  throughput             peak \(analytics.peakQueuedPerSecond) deliveries queued and \(analytics.peakDeliveredPerSecond) delivered in one second\(fanOut.map { "; the large group's deliveries were queued at \(String(format: "%.0f", $0))/s" } ?? "")")
        // End to end: messages decided, and deliveries delivered, over the log's span from the first message to the
        // last decision or delivery.
        say(
            "messages end to end      \(run.messagesPerSecond) messages/s through all five services (\(run.accepted + run.rejected) messages decided and \(run.delivered) deliveries, \(run.deliveriesPerSecond) deliveries/s, in \(String(format: "%.1f", run.spanSeconds)) s, first message to last delivery)"
        )
        say("latency sent→delivered   p50 \(Int(run.p50Milliseconds)) ms, p99 \(Int(run.p99Milliseconds)) ms (\(run.onlineDelivered) deliveries to online users)")
        say("receipts                 \(run.reads) read by their recipients; ticks \(ticks.delivered) delivered, \(ticks.read) read")
        say("presence                 \(run.online.count) online at the end; \(run.expiredSessions) sessions expired (\(run.resumedSessions) resumed by a late heartbeat); \(run.pushes) push notifications (collapsed)")
        say("checks                   missing \(run.missing), leaked \(run.leaked), duplicate deliveries \(run.duplicateDeliveries), order violations \(run.orderViolations), sequence gaps \(run.sequenceGaps), wrong decisions \(run.wrongDecisions.count), recipient-count mismatches \(run.countMismatches), reads without delivery \(run.readsWithoutDelivery), duplicate ticks \(run.duplicateTicks), early ticks \(run.earlyTicks)")
        say("mailbox store            \(mailbox.byState["delivered", default: 0]) delivered, \(queuedInStore) queued (\(queuedForOnline) users online with a queue)")
        say("analytics                \(analytics.line)")
        say("dead letters             \(run.deadLetters.count) (\(unexpectedDeadLetters.count) not of a malformed record)")
        say("duplicate effects        \(duplicates) (\(storeDuplicates.joined(separator: ", ")))")
        if chaos { say("chaos                    kills \(kills) (SIGKILL of the mailbox mid-flush, then a restart)") }
        say("elapsed                  \(String(format: "%.1f", DemoConsole.seconds(elapsed))) s")

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("system", "messaging")
        verdict.add("messages", keys.count)
        verdict.add("deliveries", run.expectedDeliveries)
        verdict.require("missing", run.missing, equals: 0)
        verdict.require("duplicate_deliveries", run.duplicateDeliveries, equals: 0)
        verdict.require("order_violations", run.orderViolations, equals: 0)
        verdict.require("leaked", run.leaked, equals: 0)
        verdict.require("undelivered_online", run.undeliveredOnline, equals: 0)
        verdict.require("stuck", stuck, equals: 0)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.add("p99_ms", Int(run.p99Milliseconds))
        verdict.add("messages_per_s", run.messagesPerSecond)
        verdict.add("deliveries_per_s", run.deliveriesPerSecond)
        verdict.require(run.wrongDecisions.isEmpty, "\(run.wrongDecisions.count) messages decided against the rules, e.g. \(run.wrongDecisions.prefix(3))")
        verdict.require(run.sequenceGaps == 0, "\(run.sequenceGaps) sequence numbers out of order or with a gap")
        verdict.require(run.countMismatches == 0, "\(run.countMismatches) acceptances with the wrong recipient count")
        verdict.require(run.readsWithoutDelivery == 0, "\(run.readsWithoutDelivery) reads of a message never delivered")
        verdict.require(run.duplicateTicks == 0 && run.earlyTicks == 0, "ticks: \(run.duplicateTicks) duplicate, \(run.earlyTicks) early")
        verdict.require(
            queuedInStore == run.waitingOffline && queuedForOnline == 0,
            "the mailbox keeps \(queuedInStore) deliveries (\(queuedForOnline) users online with a queue); the log says \(run.waitingOffline) wait for offline users")
        verdict.require(
            mailbox.byState["delivered", default: 0] == run.delivered,
            "the mailbox delivered \(mailbox.byState["delivered", default: 0]), the log \(run.delivered)")
        verdict.require(run.isSettled(connected: [], analytics: analytics), "analytics (\(analytics.line)) differs from the log")
        verdict.require(unexpectedDeadLetters.isEmpty, "\(unexpectedDeadLetters.count) records dead-lettered that were not malformed: \(unexpectedDeadLetters.prefix(2))")
        verdict.require(Set(run.deadLetters.map(\.eventID)) == malformed, "not every malformed record was dead-lettered")
        verdict.require(run.undecodable == 0, "\(run.undecodable) records did not decode")
        for violation in verdict.violations { say("FAILED: \(violation)") }
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }

    /// A user's number (`u0042` → 42).
    static func number(_ user: String) -> Int { Int(user.dropFirst()) ?? 0 }

    /// What happens alongside the base load, spread over its `period` seconds (0: back to back, after it): flapping
    /// clients, lost connections, removals racing messages, the large group's messages, and a large reconnect (with
    /// --chaos, the mailbox is SIGKILLed in the middle of it). Returns the messages it sent and the kills.
    private func choreography(
        clients: ChatClients, observer: ChatObserver, groups: [PlannedGroup], services: DemoServices, period: Double
    ) async throws -> ([MessageKey], Int) {
        func at(_ share: Double) async throws {
            try await Task.sleep(for: .milliseconds(Int(period * share * 1000)))
        }
        let users = ChatReference.standard.users
        var keys: [MessageKey] = []
        try await at(0.12)
        let flapping = users.filter { Self.number($0) % 4 == 3 }.prefix(10).map { $0 }
        DemoConsole.note("\(flapping.count) offline users flap: online, offline, online, offline, online within milliseconds, during their flush")
        for _ in 0..<2 {
            try await clients.connect(flapping)
            try await clients.disconnect(flapping)
        }
        try await clients.connect(flapping)

        try await at(0.08)
        let losing = users.filter { Self.number($0) % 40 == 1 }.prefix(20).map { $0 }
        DemoConsole.note("\(losing.count) online users lose their connection: no heartbeats, their presence expires in 30 s")
        clients.loseConnection(losing)

        try await at(0.08)
        let racing = groups.filter { $0.groupId != ChatReference.largeGroup && $0.members.count >= 4 }.prefix(6)
        DemoConsole.note("in \(racing.count) groups a member is removed at the same moment as a message to the group")
        for (index, group) in racing.enumerated() {
            let message = MessageSent(
                messageId: "RACE\(index)", senderId: group.members[0], groupId: group.groupId,
                text: "Who is still here?", sentAt: Date())
            try await clients.race(
                MemberRemoved(groupId: group.groupId, userId: group.members[1], removedBy: group.members[0], removedAt: Date()),
                message, removalFirst: index % 2 == 0)
            keys.append(MessageKey(conversationId: message.conversationId, messageId: message.messageId))
        }
        try await clients.send(
            racing.map { group in
                .added(MemberAdded(groupId: group.groupId, userId: "u1199", addedBy: group.members[0], addedAt: Date()))
            })

        try await at(0.08)
        if let large = groups.first(where: { $0.groupId == ChatReference.largeGroup }), largeGroupMessages > 0 {
            DemoConsole.note("\(largeGroupMessages) messages to the \(large.members.count)-member group: \(large.members.count - 1) deliveries each")
            let messages = (0..<largeGroupMessages).map { index in
                ChatAction.message(
                    MessageSent(
                        messageId: "DABBA\(index)", senderId: large.members[index % large.members.count],
                        groupId: large.groupId, text: "Dabbas leave Churchgate at 11:30 today (\(index))", sentAt: Date()),
                    submission: 1)
            }
            try await clients.send(messages, rate: rate > 0 ? 2 : 0)
            keys += ChatLoad.distinct(messages)
        }

        try await at(0.12)
        let reconnecting = users.filter { Self.number($0) % 4 == 2 }.prefix(150).map { $0 }
        let flushedBefore = observer.snapshot(of: []).flushed
        DemoConsole.note("\(reconnecting.count) offline users reconnect at once: large flushes\(chaos ? "; the mailbox is SIGKILLed in the middle" : "")")
        try await clients.connect(reconnecting)
        var kills = 0
        if chaos, let mailbox = services["chat-mailbox"] {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(30))
            while clock.now < deadline, observer.snapshot(of: []).flushed < flushedBefore + 100 {
                try await Task.sleep(for: .milliseconds(20))
            }
            DemoConsole.note("chaos: SIGKILL chat-mailbox (pid \(mailbox.pid)) mid-flush")
            let joins = mailbox.log.components(separatedBy: "partitions assigned").count
            mailbox.send(SIGKILL)
            _ = await mailbox.waitForExit(timeout: .seconds(10))
            try await Task.sleep(for: .seconds(1))
            try mailbox.restart()
            while clock.now < deadline.advanced(by: .seconds(60)),
                mailbox.log.components(separatedBy: "partitions assigned").count <= joins
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            DemoConsole.note("chaos: restarted chat-mailbox (pid \(mailbox.pid))")
            kills = 1
        }
        return (keys, kills)
    }

    /// Sends records the catalog's schema refuses (an empty sender id): each is dead-lettered by the groups reading
    /// `chat.messages`.
    private func sendMalformed(_ events: EventProducer, count: Int) async throws -> Set<String> {
        var ids = Set<String>()
        for index in 1...count {
            let id = "MALFORMED\(index)"
            let json = #"{"messageId":"\#(id)","senderId":"","recipientId":"u0002","kind":"text","text":"no sender","mentions":[],"sentAt":"2026-12-31T18:30:00Z"}"#
            let message = try events.message(
                type: MessageSent.eventType, version: MessageSent.schemaVersion, payload: Array(json.utf8),
                key: "dm::u0002", metadata: EventMetadata(id: id))
            _ = try await events.producer.send(message)
            ids.insert(id)
        }
        return ids
    }
}
