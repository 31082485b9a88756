import DemoKit
import Foundation

/// The registered users of the example and each one's contacts (who sees their status), the same in every process.
/// Groups are not reference data: they are created, joined and left through the log.
public struct ChatReference: Sendable {
    /// How many users: `u0001` … `u<count>`.
    public let userCount: Int
    /// Contacts per user.
    public let contactsPerUser: Int

    /// The demo's 1,200 users with eight contacts each.
    public static let standard = ChatReference(userCount: 1200, contactsPerUser: 8)

    /// Creates a reference.
    public init(userCount: Int, contactsPerUser: Int) {
        self.userCount = userCount
        self.contactsPerUser = contactsPerUser
    }

    /// The id of user `number` (1-based).
    public static func user(_ number: Int) -> String { "u" + String(format: "%04d", number) }

    /// Every user, in order.
    public var users: [String] { (1...userCount).map(Self.user) }

    /// Whether `id` is a registered user.
    public func isUser(_ id: String) -> Bool {
        guard id.count == 5, id.hasPrefix("u"), let number = Int(id.dropFirst()) else { return false }
        return number >= 1 && number <= userCount
    }

    /// A user's contacts: the users a fixed stride apart, so the lists are the same everywhere.
    public func contacts(of id: String) -> [String] {
        guard isUser(id), let number = Int(id.dropFirst()) else { return [] }
        return (1...contactsPerUser).map { step in
            Self.user((number - 1 + step * 37) % userCount + 1)
        }
    }
}

/// A group the load creates: its id, name, owner and first members.
public struct PlannedGroup: Sendable, Hashable {
    /// The group id.
    public var groupId: String
    /// The name.
    public var name: String
    /// The members, the owner first.
    public var members: [String]

    /// The creation event.
    public func created(at time: Date) -> GroupCreated {
        GroupCreated(groupId: groupId, name: name, ownerId: members[0], members: members, createdAt: time)
    }
}

extension ChatReference {
    /// The id of the large group.
    public static let largeGroup = "dabbawalas"

    /// The groups of a load: `small` groups of 3–20 members and, when `largeMembers` > 0, one group of that many
    /// (`dabbawalas`), all drawn from the users with `seed`.
    public func groups(small: Int, largeMembers: Int, seed: UInt64) -> [PlannedGroup] {
        var random = SeededGenerator(seed: seed)
        var groups: [PlannedGroup] = []
        let names = ["Family", "Office", "Cricket", "Society", "College", "Trek", "Dabba route", "Building"]
        for index in 1...max(1, small) where small > 0 {
            let size = Int.random(in: 3...20, using: &random)
            var members: [String] = []
            var seen = Set<String>()
            while members.count < size {
                let user = Self.user(Int.random(in: 1...userCount, using: &random))
                if seen.insert(user).inserted { members.append(user) }
            }
            groups.append(
                PlannedGroup(
                    groupId: "g" + String(format: "%03d", index), name: "\(names[index % names.count]) \(index)",
                    members: members))
        }
        if largeMembers > 0 {
            groups.append(
                PlannedGroup(
                    groupId: Self.largeGroup, name: "Mumbai dabbawalas",
                    members: (1...min(largeMembers, userCount)).map(Self.user)))
        }
        return groups
    }
}
