import AITBCDomain
import Foundation

/// Requests of the last 24 hours in hourly bars (admitted, rate limited, errors stacked), drawn as SVG
/// on the server: no scripts, fonts or external files, so the page works offline and without JavaScript.
struct UsageChart {
    struct Hour {
        var start: Int64
        var counts: UsageCounts
        var label: String { UsageChart.clock(start) }
    }

    let hours: [Hour]
    let totals: UsageCounts

    /// Buckets per-minute counts (Unix seconds) into the 24 hours that end with the current one.
    init(minutes: [(minute: Int64, counts: UsageCounts)], now: Date) {
        let currentHour = Int64(now.timeIntervalSince1970) / 3600 * 3600
        let first = currentHour - 23 * 3600
        var hours = (0..<24).map { Hour(start: first + Int64($0) * 3600, counts: UsageCounts()) }
        var totals = UsageCounts()
        for entry in minutes where entry.minute >= first {
            let index = Int((entry.minute - first) / 3600)
            guard index < hours.count else { continue }
            hours[index].counts += entry.counts
            totals += entry.counts
        }
        self.hours = hours
        self.totals = totals
    }

    static let admittedColour = "#2e7d32"
    static let rateLimitedColour = "#e65100"
    static let errorColour = "#b71c1c"

    /// The chart as an `<svg>` element; every text in it is escaped.
    func svg(title: String) -> String {
        let width = 720.0, height = 240.0, left = 48.0, right = 8.0, top = 12.0, bottom = 28.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let peak = hours.map { $0.counts.admitted + $0.counts.rateLimited + $0.counts.errors }.max() ?? 0
        let scale = Self.niceCeiling(peak)
        let slot = plotWidth / Double(hours.count)
        let barWidth = slot * 0.7
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" \
            role="img" aria-labelledby="chart-title" class="chart" preserveAspectRatio="xMidYMid meet">\
            <title id="chart-title">\(HTML.escape(title)): \(totals.admitted) admitted, \
            \(totals.rateLimited) rate limited, \(totals.errors) errors in the last 24 hours</title>
            """
        for step in 0...4 {
            let value = scale * step / 4
            let y = top + plotHeight - plotHeight * Double(value) / Double(scale)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"#d0d4da\" stroke-width=\"1\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#4a5260\">\(value)</text>"
        }
        for (index, hour) in hours.enumerated() {
            let x = left + slot * Double(index) + (slot - barWidth) / 2
            var base = top + plotHeight
            let tooltip = "\(hour.label)–\(Self.clock(hour.start + 3600)) UTC: \(hour.counts.admitted) admitted, \(hour.counts.rateLimited) rate limited, \(hour.counts.errors) errors"
            out += "<g class=\"bar\"><title>\(HTML.escape(tooltip))</title>"
            for (value, colour, kind) in [
                (hour.counts.admitted, Self.admittedColour, "admitted"),
                (hour.counts.rateLimited, Self.rateLimitedColour, "rate-limited"),
                (hour.counts.errors, Self.errorColour, "errors"),
            ] where value > 0 {
                let barHeight = max(1, plotHeight * Double(value) / Double(scale))
                base -= barHeight
                out += "<rect data-kind=\"\(kind)\" data-count=\"\(value)\" x=\"\(f(x))\" y=\"\(f(base))\" width=\"\(f(barWidth))\" height=\"\(f(barHeight))\" fill=\"\(colour)\"/>"
            }
            // A transparent full-height target so the tooltip shows on empty hours too.
            out += "<rect x=\"\(f(left + slot * Double(index)))\" y=\"\(f(top))\" width=\"\(f(slot))\" height=\"\(f(plotHeight))\" fill=\"transparent\"/></g>"
            if index % 3 == 0 {
                out += "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#4a5260\">\(hour.label)</text>"
            }
        }
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" stroke=\"#4a5260\" stroke-width=\"1\"/>"
        return out + "</svg>"
    }

    /// The smallest of 4, 8, 20, 40, 80, 200, … (a multiple of 4, so the five gridlines are whole) not below `value`.
    static func niceCeiling(_ value: Int) -> Int {
        var magnitude = 1
        while true {
            for step in [4, 8, 20] where step * magnitude >= value { return step * magnitude }
            magnitude *= 10
        }
    }

    /// "14:00" for the start of an hour, UTC.
    static func clock(_ unixSeconds: Int64) -> String {
        let hour = (unixSeconds % 86400) / 3600
        return hour < 10 ? "0\(hour):00" : "\(hour):00"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
