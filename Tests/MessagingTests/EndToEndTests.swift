import DabbaTesting
import DemoKit
import Foundation
import MessagingDomain
import MessagingRuntime
import Testing

@Suite("Messaging end to end: the five services as processes", .serialized, .timeLimit(.minutes(6)))
struct MessagingEndToEndTests {
    let reference = ChatReference.standard

    /// Every fourth user, from `offset`.
    func users(_ offset: Int, count: Int) -> [String] {
        reference.users.filter { (Int($0.dropFirst()) ?? 0) % 4 == offset }.prefix(count).map { $0 }
    }

    @Test("a normal run: one delivery per member at send time, in order, removals racing messages, resends ignored")
    func normalRun() async throws {
        try await MessagingSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let groups = reference.groups(small: 20, largeMembers: 0, seed: 41)
            try await system.create(groups)
            try await system.clients.connect(users(1, count: 300))
            let load = ChatLoad(groups: groups, seed: 42, runID: "N").actions(count: 400)
            var keys = ChatLoad.distinct(load)
            try await system.clients.send(load, rate: 0)
            for (index, group) in groups.prefix(6).enumerated() {
                let message = MessageSent(
                    messageId: "RACE\(index)", senderId: group.members[0], groupId: group.groupId, text: "still here?",
                    sentAt: Date())
                try await system.clients.race(
                    MemberRemoved(groupId: group.groupId, userId: group.members[1], removedBy: group.members[0], removedAt: Date()),
                    message, removalFirst: index % 2 == 0)
                keys.append(MessageKey(conversationId: message.conversationId, messageId: message.messageId))
            }
            // Everyone but a few comes online: their mailboxes flush.
            try await system.clients.connect(reference.users.filter { !system.clients.connected.contains($0) && !$0.hasSuffix("0") })
            let run = try await system.finish(keys)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.resends > 0)
            #expect(run.rejected > 0 && run.rejections.count >= 5, "\(run.rejections)")
            #expect(run.flushed > 0 && run.waitingOffline > 0)
            #expect(run.reads > 0 && run.statuses > 0 && run.groupMessages > 0)
            #expect(run.pushes > 0)
        }
    }

    @Test("SIGKILL of the mailbox in the middle of large flushes: nothing lost, nothing twice, still in order")
    func killMailboxMidFlush() async throws {
        try await MessagingSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let groups = reference.groups(small: 20, largeMembers: 0, seed: 43)
            try await system.create(groups)
            // Everyone offline: the whole load waits in the mailbox.
            let load = ChatLoad(groups: groups, seed: 44, runID: "K").actions(count: 600)
            let keys = ChatLoad.distinct(load)
            try await system.clients.send(load, rate: 0)
            try await TestHelpers.eventually("the load is queued", timeout: .seconds(120)) {
                let run = system.observer.snapshot(of: keys)
                return run.undecided.isEmpty && run.missing == 0
            }
            let mailbox = try #require(system.services["chat-mailbox"])
            try await system.clients.connect(reference.users)
            try await TestHelpers.eventually("flushes under way", timeout: .seconds(60), pollInterval: .milliseconds(10)) {
                system.observer.snapshot(of: []).flushed >= 50
            }
            mailbox.send(SIGKILL)
            _ = await mailbox.waitForExit(timeout: .seconds(10))
            let flushedAtKill = system.observer.snapshot(of: []).flushed
            try mailbox.restart()
            let run = try await system.finish(keys)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(flushedAtKill < run.flushed, "the kill came after every flush")
            #expect(run.waitingOffline == 0)
        }
    }

    @Test("presence: flapping clients during their flush, and lost connections expiring into the mailbox")
    func presence() async throws {
        try await MessagingSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let groups = reference.groups(small: 20, largeMembers: 0, seed: 45)
            try await system.create(groups)
            let online = users(1, count: 300)
            try await system.clients.connect(online)
            let first = ChatLoad(groups: groups, seed: 46, runID: "P").actions(count: 300)
            try await system.clients.send(first, rate: 0)
            // Offline users with messages waiting flap while their flush runs and messages keep coming.
            let flapping = users(3, count: 30)
            let second = ChatLoad(groups: groups, seed: 47, runID: "Q").actions(count: 300)
            let sending = Task { try await system.clients.send(second, rate: 200) }
            for _ in 0..<4 {
                try await system.clients.connect(flapping)
                try await system.clients.disconnect(flapping)
            }
            try await system.clients.connect(flapping)
            // Online users lose their connection: presence expires after 3 s (30 s at this time scale).
            let losing = Array(online.prefix(25))
            system.clients.loseConnection(losing)
            try await TestHelpers.eventually("their presence expired", timeout: .seconds(60)) {
                system.observer.snapshot(of: []).online.isDisjoint(with: losing)
            }
            let third = ChatLoad(groups: groups, seed: 48, runID: "R").actions(count: 200)
            try await system.clients.send(third, rate: 0)
            try await sending.value
            let keys = ChatLoad.distinct(first + second + third)
            try await TestHelpers.eventually("the expired users' messages are kept", timeout: .seconds(120)) {
                let run = system.observer.snapshot(of: keys)
                return run.undecided.isEmpty && run.missing == 0 && run.undeliveredOnline == 0
            }
            let whileAway = system.observer.snapshot(of: keys)
            #expect(losing.allSatisfy { !whileAway.online.contains($0) })
            try await system.clients.connect(losing)
            let run = try await system.finish(keys)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(flapping.allSatisfy { run.online.contains($0) })
            #expect(run.expiredSessions >= losing.count)
            #expect(run.pushes > 0)
        }
    }

    @Test("a 1,000-member group: every member but the sender gets each message once, in order")
    func largeGroup() async throws {
        try await MessagingSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let groups = reference.groups(small: 0, largeMembers: 1000, seed: 49)
            let large = try #require(groups.first)
            try await system.create(groups)
            try await system.clients.connect(users(1, count: 300) + users(2, count: 300))
            let messages = (0..<3).map { index in
                ChatAction.message(
                    MessageSent(
                        messageId: "L\(index)", senderId: large.members[index], groupId: large.groupId,
                        text: "Dabbas at 11:30 (\(index))", sentAt: Date()),
                    submission: 1)
            }
            try await system.clients.send(messages, rate: 0)
            try await system.clients.connect(reference.users.filter { !system.clients.connected.contains($0) })
            let run = try await system.finish(ChatLoad.distinct(messages), timeout: .seconds(240))
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.expectedDeliveries == 3 * 999)
            #expect(run.delivered == 3 * 999)
        }
    }
}
