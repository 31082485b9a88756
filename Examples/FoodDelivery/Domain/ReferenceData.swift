import Foundation

/// A dish on a restaurant's menu.
public struct MenuItem: Sendable, Hashable {
    /// The item id, unique within the restaurant.
    public var id: String
    /// The display name.
    public var name: String
    /// The price in minor units of the city's currency.
    public var priceMinor: Int
    /// How many the restaurant can make before it runs out (its starting stock).
    public var stock: Int
}

/// A restaurant: where it is, when it is open, what it sells and how long it takes.
public struct Restaurant: Sendable, Hashable {
    /// The restaurant id.
    public var id: String
    /// The display name.
    public var name: String
    /// The city.
    public var city: String
    /// Where it is.
    public var location: Location
    /// Opening hours as UTC hour ranges (`0..<24`: always open; empty: closed, e.g. for renovation).
    public var openingHours: [Range<Int>]
    /// The kitchen's preparation time.
    public var preparationMinutes: Int
    /// The menu.
    public var menu: [MenuItem]

    /// Whether the restaurant is open at a UTC hour of the day.
    /// - Parameter hour: 0–23.
    /// - Returns: Whether one of the opening ranges contains it.
    public func isOpen(atUTCHour hour: Int) -> Bool { openingHours.contains { $0.contains(hour) } }

    /// A menu item by id.
    public func item(_ id: String) -> MenuItem? { menu.first { $0.id == id } }
}

/// A city the platform serves.
public struct City: Sendable, Hashable {
    /// The city id (`bengaluru`).
    public var id: String
    /// The centre, around which customers and partners are placed.
    public var centre: Location
    /// ISO 4217 currency.
    public var currency: String
}

/// A delivery partner and where they start the day.
public struct DeliveryPartner: Sendable, Hashable {
    /// The partner id.
    public var id: String
    /// The city they deliver in.
    public var city: String
    /// Their position at the start (before any location update).
    public var home: Location
}

/// The deterministic reference data of the example: cities, restaurants with menus, stock and opening hours,
/// and delivery partners. Every service and the load generator build the same catalog from the same seed, so
/// there is no reference-data topic to bootstrap first.
public struct ReferenceCatalog: Sendable {
    /// The cities.
    public let cities: [City]
    /// Every restaurant.
    public let restaurants: [Restaurant]
    /// Every delivery partner.
    public let partners: [DeliveryPartner]
    private let restaurantsByID: [String: Restaurant]

    /// The standard catalog: 4 cities, 5 restaurants each (one closed for renovation, one with a scarce dish),
    /// 25 partners each.
    public static let standard = ReferenceCatalog(partnersPerCity: 25)

    /// Builds the catalog.
    /// - Parameter partnersPerCity: How many delivery partners each city has.
    public init(partnersPerCity: Int) {
        let cities = [
            City(id: "bengaluru", centre: Location(lat: 12.9716, lon: 77.5946), currency: "INR"),
            City(id: "mumbai", centre: Location(lat: 19.0760, lon: 72.8777), currency: "INR"),
            City(id: "delhi", centre: Location(lat: 28.6139, lon: 77.2090), currency: "INR"),
            City(id: "chennai", centre: Location(lat: 13.0827, lon: 80.2707), currency: "INR"),
        ]
        let kitchens: [(slug: String, name: String, minutes: Int, dishes: [(String, String, Int)])] = [
            (
                "dosa-corner", "Dosa Corner", 12,
                [
                    ("masala-dosa", "Masala dosa", 12000), ("idli", "Idli (2)", 6000),
                    ("filter-coffee", "Filter coffee", 4000),
                ]
            ),
            (
                "biryani-house", "Biryani House", 25,
                [
                    ("chicken-biryani", "Chicken biryani", 28000), ("veg-biryani", "Veg biryani", 22000),
                    ("raita", "Raita", 5000),
                ]
            ),
            (
                "chaat-street", "Chaat Street", 8,
                [("pani-puri", "Pani puri", 7000), ("bhel", "Bhel puri", 8000), ("mango-lassi", "Mango lassi", 9000)]
            ),
            (
                "tandoor", "Tandoor Nights", 20,
                [
                    ("butter-chicken", "Butter chicken", 32000), ("naan", "Butter naan", 6000),
                    ("dal-makhani", "Dal makhani", 24000),
                ]
            ),
            ("thali-co", "Thali House", 15, [("veg-thali", "Veg thali", 25000), ("gulab-jamun", "Gulab jamun", 7000)]),
        ]
        var restaurants: [Restaurant] = []
        var partners: [DeliveryPartner] = []
        for (cityIndex, city) in cities.enumerated() {
            for (index, kitchen) in kitchens.enumerated() {
                // A small grid around the centre: about 1–3 km apart.
                let offset = Double(index - 2) * 0.012
                var menu = kitchen.dishes.map { MenuItem(id: $0.0, name: $0.1, priceMinor: $0.2, stock: 100_000) }
                // The chef's special is scarce everywhere: orders for it run the restaurant out of stock.
                menu.append(MenuItem(id: "chefs-special", name: "Chef's special", priceMinor: 45000, stock: 5))
                restaurants.append(
                    Restaurant(
                        id: "\(city.id.prefix(3))-\(kitchen.slug)", name: kitchen.name, city: city.id,
                        location: Location(lat: city.centre.lat + offset, lon: city.centre.lon - offset / 2),
                        // Thali House is closed for renovation in every city (orders to it are rejected).
                        openingHours: kitchen.slug == "thali-co" ? [] : [0..<24],
                        preparationMinutes: kitchen.minutes + cityIndex, menu: menu
                    )
                )
            }
            for number in 0..<partnersPerCity {
                let angle = Double(number) * 2.399963  // golden angle: an even spread
                let radius = 0.005 + 0.03 * Double(number) / Double(max(1, partnersPerCity))
                partners.append(
                    DeliveryPartner(
                        id: "ptn-\(city.id.prefix(3))-\(String(format: "%02d", number))", city: city.id,
                        home: Location(
                            lat: city.centre.lat + radius * cos(angle), lon: city.centre.lon + radius * sin(angle))
                    )
                )
            }
        }
        self.cities = cities
        self.restaurants = restaurants
        self.partners = partners
        self.restaurantsByID = Dictionary(uniqueKeysWithValues: restaurants.map { ($0.id, $0) })
    }

    /// A restaurant by id.
    /// - Parameter id: The restaurant id.
    /// - Returns: The restaurant, or nil if there is none.
    public func restaurant(_ id: String) -> Restaurant? { restaurantsByID[id] }

    /// A city by id.
    public func city(_ id: String) -> City? { cities.first { $0.id == id } }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
