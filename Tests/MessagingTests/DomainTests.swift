import Foundation
import MessagingDomain
import Testing

@Suite("Messaging domain rules, without Kafka")
struct MessagingDomainTests {
    let reference = ChatReference.standard
    let time = Date(timeIntervalSince1970: 1_798_741_800)

    @Test("a one-to-one conversation is the sorted pair, whoever sends")
    func conversationIDs() {
        #expect(Conversation.direct("u0002", "u0001") == "dm:u0001:u0002")
        #expect(Conversation.direct("u0001", "u0002") == "dm:u0001:u0002")
        let reply = MessageSent(messageId: "a", senderId: "u0009", recipientId: "u0003", text: "hi", sentAt: time)
        #expect(reply.partitionKey == "dm:u0003:u0009")
        #expect(MessageSent(messageId: "b", senderId: "u0001", groupId: "g1", text: "hi", sentAt: time).partitionKey == "group:g1")
        #expect(MessageSent(messageId: "c", senderId: "u0001", text: "hi", sentAt: time).partitionKey == "invalid:u0001")
        #expect(StatusUpdated(statusId: "s", userId: "u0004", text: "x", updatedAt: time).partitionKey == "status:u0004")
        #expect(UserOnline(userId: "u0004", sessionId: "s1", connectedAt: time).partitionKey == "u0004")
    }

    @Test("each refusal names its reason", arguments: [
        (MessageSent(messageId: "1", senderId: "u0001", recipientId: "u0001", text: "me", sentAt: .distantPast), MessageRejection.invalidRecipient),
        (MessageSent(messageId: "2", senderId: "u0001", recipientId: "u9999", text: "hi", sentAt: .distantPast), .unknownUser),
        (MessageSent(messageId: "3", senderId: "x", recipientId: "u0002", text: "hi", sentAt: .distantPast), .unknownUser),
        (MessageSent(messageId: "4", senderId: "u0001", groupId: "g404", text: "hi", sentAt: .distantPast), .unknownGroup),
        (MessageSent(messageId: "5", senderId: "u0009", groupId: "g1", text: "hi", sentAt: .distantPast), .notMember),
        (MessageSent(messageId: "6", senderId: "u0001", recipientId: "u0002", text: " \n", sentAt: .distantPast), .empty),
        (MessageSent(messageId: "7", senderId: "u0001", recipientId: "u0002", kind: .media, text: "caption", sentAt: .distantPast), .empty),
        (MessageSent(messageId: "8", senderId: "u0001", recipientId: "u0002", text: String(repeating: "a", count: 4097), sentAt: .distantPast), .tooLarge),
        (MessageSent(messageId: "9", senderId: "u0001", recipientId: "u0002", kind: .reply, text: "re", replyTo: "0", sentAt: .distantPast), .unknownReply),
        (MessageSent(messageId: "10", senderId: "u0001", recipientId: "u0002", groupId: "g1", text: "both", sentAt: .distantPast), .invalidRecipient),
        (MessageSent(messageId: "11", senderId: "u0001", recipientId: "u0002", kind: .status, text: "st", sentAt: .distantPast), .invalidRecipient),
    ])
    func refusals(message: MessageSent, reason: MessageRejection) {
        let groups: [String: Set<String>] = ["g1": ["u0001", "u0002", "u0003"]]
        let refusal = MessagingRules.check(
            message, members: message.groupId.flatMap { groups[$0] }, replyKnown: false, reference: reference)
        #expect(refusal?.reason == reason, "\(message.messageId): \(String(describing: refusal))")
        #expect(refusal?.detail.isEmpty == false)
    }

    @Test("a valid message is accepted: one recipient, or every member but the sender, sorted")
    func recipients() {
        let direct = MessageSent(messageId: "1", senderId: "u0001", recipientId: "u0002", text: "hi", sentAt: time)
        #expect(MessagingRules.check(direct, members: nil, replyKnown: false, reference: reference) == nil)
        #expect(MessagingRules.recipients(of: direct, members: []) == ["u0002"])
        let group = MessageSent(messageId: "2", senderId: "u0003", groupId: "g1", text: "hi", sentAt: time)
        let members: Set<String> = ["u0007", "u0003", "u0001"]
        #expect(MessagingRules.check(group, members: members, replyKnown: false, reference: reference) == nil)
        #expect(MessagingRules.recipients(of: group, members: members) == ["u0001", "u0007"])
        let reply = MessageSent(
            messageId: "3", senderId: "u0001", recipientId: "u0002", kind: .reply, text: "re", replyTo: "1", sentAt: time)
        #expect(MessagingRules.check(reply, members: nil, replyKnown: true, reference: reference) == nil)
        let media = MessageSent(
            messageId: "4", senderId: "u0001", recipientId: "u0002", kind: .media, text: "", mediaUrl: "https://m/1.jpg",
            sentAt: time)
        #expect(MessagingRules.check(media, members: nil, replyKnown: false, reference: reference) == nil)
    }

    @Test("group changes: created with members, added and removed by members; everything else refused")
    func groupChanges() throws {
        func apply(_ change: MessagingRules.GroupChange, _ members: Set<String>?) -> Result<Set<String>, MessagingRules.Refusal> {
            MessagingRules.apply(change, to: members, reference: reference)
        }
        let created = GroupCreated(groupId: "g1", name: "G", ownerId: "u0001", members: ["u0002"], createdAt: time)
        #expect(try apply(.created(created), nil).get() == ["u0001", "u0002"])
        let lonely = GroupCreated(groupId: "g2", name: "G", ownerId: "u0001", members: [], createdAt: time)
        #expect(throws: MessagingRules.Refusal.self) { try apply(.created(lonely), nil).get() }
        #expect(throws: MessagingRules.Refusal.self) { try apply(.created(created), ["u0001"]).get() }
        let members: Set<String> = ["u0001", "u0002"]
        let added = MemberAdded(groupId: "g1", userId: "u0003", addedBy: "u0002", addedAt: time)
        #expect(try apply(.added(added), members).get() == ["u0001", "u0002", "u0003"])
        #expect(throws: MessagingRules.Refusal.self) { try apply(.added(added), nil).get() }
        let byStranger = MemberAdded(groupId: "g1", userId: "u0003", addedBy: "u0009", addedAt: time)
        if case .failure(let refusal) = apply(.added(byStranger), members) {
            #expect(refusal.reason == .notMember)
        } else {
            Issue.record("a stranger added a member")
        }
        let unknown = MemberAdded(groupId: "g1", userId: "u9999", addedBy: "u0001", addedAt: time)
        #expect(throws: MessagingRules.Refusal.self) { try apply(.added(unknown), members).get() }
        let left = MemberRemoved(groupId: "g1", userId: "u0002", removedBy: "u0002", removedAt: time)
        #expect(try apply(.removed(left), members).get() == ["u0001"])
    }

    @Test("contacts: eight registered users, never oneself, the same in every process")
    func contacts() {
        for user in ["u0001", "u0600", "u1200"] {
            let contacts = reference.contacts(of: user)
            #expect(contacts.count == 8)
            #expect(Set(contacts).count == 8)
            #expect(!contacts.contains(user))
            #expect(contacts.allSatisfy(reference.isUser))
        }
        #expect(reference.contacts(of: "u9999").isEmpty)
        #expect(!reference.isUser("u0000") && !reference.isUser("u1201") && !reference.isUser("x0001"))
    }

    @Test("the load is deterministic, mixes like the seed, resends keep their id, and its malformed messages are refused")
    func load() throws {
        let groups = reference.groups(small: 20, largeMembers: 1000, seed: 5)
        #expect(groups.count == 21)
        #expect(groups.last?.members.count == 1000)
        #expect(groups.dropLast().allSatisfy { (3...20).contains($0.members.count) && Set($0.members).count == $0.members.count })
        let small = Array(groups.dropLast())
        let first = ChatLoad(groups: small, seed: 9, runID: "T").actions(count: 2000)
        #expect(first == ChatLoad(groups: small, seed: 9, runID: "T").actions(count: 2000))
        var direct = 0, group = 0, status = 0, resends = 0, refused = 0
        var memberships = Dictionary(uniqueKeysWithValues: small.map { ($0.groupId, Set($0.members)) })
        memberships["g999"] = nil
        for action in first {
            switch action {
            case .status: status += 1
            case .message(let message, let submission):
                if submission == 2 { resends += 1; continue }
                if message.groupId != nil, message.recipientId == nil { group += 1 } else { direct += 1 }
                let members = message.groupId.flatMap { memberships[$0] }
                if MessagingRules.check(message, members: members, replyKnown: true, reference: reference) != nil {
                    refused += 1
                }
            }
        }
        #expect(direct + group + status + resends == first.count)
        #expect((1000...1400).contains(direct), "\(direct) one-to-one (with the malformed)")
        #expect((400...600).contains(group), "\(group) to groups")
        #expect((150...250).contains(status), "\(status) statuses")
        #expect((30...110).contains(resends), "\(resends) resends")
        #expect((100...220).contains(refused), "\(refused) refused")
        #expect(ChatLoad.distinct(first).count == first.count - resends)
    }
}
