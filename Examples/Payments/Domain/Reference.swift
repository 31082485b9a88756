import DemoKit
import Foundation

/// A customer of the platform: a person with a bank account behind a VPA.
public struct Customer: Sendable, Hashable {
    /// The VPA (`u00042@okdabba`).
    public var vpa: String
    /// The balance the ledger opens the account with, in paise.
    public var openingBalancePaise: Int
    /// The customer's average payment in the history before the run, in paise (the 20× rule's base).
    public var averagePaymentPaise: Int
}

/// A merchant: receives payments, holds no hold of its own. `m001` is the hot one (most merchant payments go to it).
public struct Merchant: Sendable, Hashable {
    /// The VPA (`m001@dabbapay`).
    public var vpa: String
    /// Its display name.
    public var name: String
}

/// The reference data every service and the demo share, generated from a seed: customers with opening balances and
/// payment history, merchants. The ledger opens its accounts from it; the gateway reads averages from it.
public struct PaymentsReference: Sendable {
    /// Customers by VPA.
    public let customers: [String: Customer]
    /// Customers in VPA order.
    public let customerList: [Customer]
    /// Merchants by VPA.
    public let merchants: [String: Merchant]
    /// Merchants in VPA order (the first is the hot one).
    public let merchantList: [Merchant]

    /// 1,000 customers and 40 merchants from seed 7.
    public static let standard = PaymentsReference(customers: 1000, merchants: 40, seed: 7)

    /// Generates reference data.
    /// - Parameters:
    ///   - customers: How many customers.
    ///   - merchants: How many merchants.
    ///   - seed: The seed.
    public init(customers: Int, merchants: Int, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var list: [Customer] = []
        for index in 1...max(1, customers) {
            // Opening balances from ₹500 to ₹50,000; usual payments from ₹50 to ₹2,000.
            let balance = Int.random(in: 500...50_000, using: &random) * 100
            let average = Int.random(in: 50...2_000, using: &random) * 100
            list.append(
                Customer(
                    vpa: "u\(String(format: "%05d", index))@okdabba", openingBalancePaise: balance,
                    averagePaymentPaise: average))
        }
        let names = ["Chai Point", "Dosa Corner", "Kirana Mart", "Metro Fuel", "Book Nook", "Pharma Plus"]
        let shops = (1...max(1, merchants)).map { index in
            Merchant(vpa: "m\(String(format: "%03d", index))@dabbapay", name: "\(names[(index - 1) % names.count]) #\(index)")
        }
        customerList = list
        merchantList = shops
        self.customers = Dictionary(uniqueKeysWithValues: list.map { ($0.vpa, $0) })
        self.merchants = Dictionary(uniqueKeysWithValues: shops.map { ($0.vpa, $0) })
    }

    /// The customer with this VPA.
    public func customer(_ vpa: String) -> Customer? { customers[vpa] }
    /// Whether the VPA is a merchant's.
    public func isMerchant(_ vpa: String) -> Bool { merchants[vpa] != nil }
    /// Whether the VPA has an account (a customer's or a merchant's).
    public func hasAccount(_ vpa: String) -> Bool { customers[vpa] != nil || merchants[vpa] != nil }
    /// The money in the system before the run: the sum of opening balances (merchants open at zero).
    public var seededTotalPaise: Int { customerList.reduce(0) { $0 + $1.openingBalancePaise } }
    /// Every account with its opening balance, customers then merchants.
    public var openingBalances: [(vpa: String, paise: Int)] {
        customerList.map { ($0.vpa, $0.openingBalancePaise) } + merchantList.map { ($0.vpa, 0) }
    }
}
