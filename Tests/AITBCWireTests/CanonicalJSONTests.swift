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
            #expect(CanonicalJSON.string(.double(number)) == fixture.python, "\(number)")
            #expect(CanonicalJSON.pythonRepr(number) == fixture.python)
        }
    }

    @Test func wholeDoublesPrintAsPythonsReprAndTheWireReadsThemBackAsDoubles() throws {
        #expect(CanonicalJSON.pythonRepr(2.0) == "2.0")
        #expect(CanonicalJSON.pythonRepr(1e16) == "1e+16")
        #expect(CanonicalJSON.pythonRepr(1e15) == "1000000000000000.0")
        #expect(CanonicalJSON.pythonRepr(-0.0) == "-0.0")
        // Python's json.dumps([2.0, -0.0, 1e16, 12345678901234567890]).
        let value: JSONValue = [.double(2.0), .double(-0.0), .double(1e16), .largeInteger("12345678901234567890")]
        #expect(CanonicalJSON.string(value) == "[2.0,-0.0,1e+16,12345678901234567890]")
        #expect(try JSONValue(parsing: CanonicalJSON.string(value)) == value)
        #expect(CanonicalJSON.normalized(.array([.double(3.0), .double(0.5), .double(.infinity)])) == .array([.double(3.0), .double(0.5), .null]))
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
