import Foundation
import Testing

import AITBCWire

/// The canonical JSON receipts are signed over is byte for byte what Python's `json.dumps` writes.
@Suite struct CanonicalJSONTests {
    @Test func documentsMatchPythonsJSONDumpsWithNullsRemoved() throws {
        for fixture in CanonicalJSONFixtures.documents {
            let value = try JSONValue(parsing: fixture.input)
            #expect(CanonicalJSON.string(value) == fixture.python)
        }
    }

    @Test func doublesPrintAsPythonsRepr() {
        for fixture in CanonicalJSONFixtures.doubles {
            let number = Double(bitPattern: fixture.bits)
            if number.rounded(.towardZero) == number, abs(number) < 9.2e18 { continue }
            #expect(CanonicalJSON.string(.double(number)) == fixture.python, "\(number)")
            #expect(CanonicalJSON.pythonRepr(number) == fixture.python)
        }
    }

    @Test func wholeDoublesPrintAsPythonsReprAndAsTheWireReadsThemBack() {
        #expect(CanonicalJSON.pythonRepr(2.0) == "2.0")
        #expect(CanonicalJSON.pythonRepr(1e16) == "1e+16")
        #expect(CanonicalJSON.pythonRepr(1e15) == "1000000000000000.0")
        #expect(CanonicalJSON.pythonRepr(-0.0) == "-0.0")
        // The wire decoder reads 2.0 and -0.0 back as integers, so the canonical text says so.
        #expect(CanonicalJSON.string(.double(2.0)) == "2")
        #expect(CanonicalJSON.string(.double(-0.0)) == "0")
        #expect(CanonicalJSON.string(.double(1e16)) == "10000000000000000")
        #expect(CanonicalJSON.normalized(.array([.double(3.0), .double(0.5), .double(.infinity)])) == .array([.int(3), .double(0.5), .null]))
    }

    @Test func nullsStayWhenAskedAndKeysSortByCodePoint() throws {
        let value = try JSONValue(parsing: #"{"b":null,"a":[null],"\ud83d\ude00":1,"\uffff":2}"#)
        #expect(CanonicalJSON.string(value, removingNulls: false) == #"{"a":[null],"b":null,"\uffff":2,"\ud83d\ude00":1}"#)
    }

    @Test func canonicalTextReadsBackToTheSameCanonicalText() throws {
        for fixture in CanonicalJSONFixtures.documents {
            let once = CanonicalJSON.string(try JSONValue(parsing: fixture.input), removingNulls: false)
            #expect(CanonicalJSON.string(try JSONValue(parsing: once), removingNulls: false) == once)
        }
    }
}
