//! Native methods and n8n extension functions (expected values from n8n's public docs).
mod common;
use common::*;
use serde_json::json;

#[test]
fn string_methods() {
    check(&[
        ("'Hello from n8n'.slice(0, 5)", json!("Hello")),
        ("'Hello from n8n'.slice(-3)", json!("n8n")),
        ("'Hello from n8n'.substring(6)", json!("from n8n")),
        ("'abcdef'.substr(1, 3)", json!("bcd")),
        (
            "'wind,fire,water'.split(',')",
            json!(["wind", "fire", "water"]),
        ),
        (
            "'me? you, and her'.split(/[ ,?]+/)",
            json!(["me", "you", "and", "her"]),
        ),
        ("'abc'.split('')", json!(["a", "b", "c"])),
        (
            "'Red or blue or green'.replace('or', 'and')",
            json!("Red and blue or green"),
        ),
        (
            "'Red or blue or green'.replaceAll('or', 'and')",
            json!("Red and blue and green"),
        ),
        (
            "'Mr Blue has a blue car'.replaceAll(/blue|car/gi, x => x.toUpperCase())",
            json!("Mr BLUE has a BLUE CAR"),
        ),
        (
            "'2024-01-15'.replace(/(\\d+)-(\\d+)-(\\d+)/, '$3/$2/$1')",
            json!("15/01/2024"),
        ),
        ("'rock and roll'.match(/r[^ ]*/g)", json!(["rock", "roll"])),
        ("'rock and roll'.match(/r[^ ]*/)", json!(["rock"])),
        ("'abc'.match(/x/)", json!(null)),
        ("'Neat n8n node'.search(/n[^ ]*/)", json!(5)),
        ("/^a.c$/i.test('ABC')", json!(true)),
        ("'  lonely  '.trim()", json!("lonely")),
        ("'5'.padStart(3, '0')", json!("005")),
        ("'ab'.repeat(3)", json!("ababab")),
        ("'team'.includes('tea')", json!(true)),
        ("'steam'.indexOf('tea')", json!(1)),
        ("'team'.startsWith('tea')", json!(true)),
        ("'abc'.at(-1)", json!("c")),
        ("'abc'.charCodeAt(1)", json!(98)),
        ("'work'.concat('a', 'holic')", json!("workaholic")),
        ("'héllo'.length", json!(5)),
        ("$json.name.toLowerCase()", json!("alice smith")),
        ("$json.name.split(' ')[0]", json!("Alice")),
        ("'b'.localeCompare('a')", json!(1)),
    ]);
}

#[test]
fn string_extensions() {
    check(&[
        ("'aGVsbG8='.base64Decode()", json!("hello")),
        ("'hello'.base64Encode()", json!("aGVsbG8=")),
        ("'me@example.com'.extractDomain()", json!("example.com")),
        ("'http://n8n.io/workflows'.extractDomain()", json!("n8n.io")),
        (
            "\"It's me@example.com\".extractEmail().extractDomain()",
            json!("example.com"),
        ),
        (
            "'My email is me@example.com'.extractEmail()",
            json!("me@example.com"),
        ),
        (
            "'Check out http://n8n.io'.extractUrl()",
            json!("http://n8n.io"),
        ),
        (
            "'http://n8n.io/workflows'.extractUrlPath()",
            json!("/workflows"),
        ),
        ("'hello'.hash()", json!("5d41402abc4b2a76b9719d911017c592")),
        (
            "'hello'.hash('sha256')",
            json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ),
        ("'n8n.io'.isDomain()", json!(true)),
        ("'http://n8n.io'.isDomain()", json!(false)),
        ("'me@example.com'.isEmail()", json!(true)),
        ("\"It's me@example.com\".isEmail()", json!(false)),
        ("''.isEmpty()", json!(true)),
        ("'hello'.isNotEmpty()", json!(true)),
        ("'1.2234'.isNumeric()", json!(true)),
        ("'123E23'.isNumeric()", json!(true)),
        ("'hello'.isNumeric()", json!(false)),
        ("'https://n8n.io'.isUrl()", json!(true)),
        ("'n8n.io'.isUrl()", json!(false)),
        (
            "'{\"name\":\"Nathan\"}'.parseJson()",
            json!({"name": "Nathan"}),
        ),
        ("\"{'name':'Nathan'}\".parseJson()", json!(null)),
        (
            "'Nathan says \"hi\"'.quote()",
            json!("\"Nathan says \\\"hi\\\"\""),
        ),
        ("'*bold*, [link]()'.removeMarkdown()", json!("bold, link")),
        (
            "'<b>bold</b>, <a>link</a>'.removeTags()",
            json!("bold, link"),
        ),
        ("'déjà'.replaceSpecialChars()", json!("deja")),
        ("'true'.toBoolean()", json!(true)),
        ("'0'.toBoolean()", json!(false)),
        ("'no'.toBoolean()", json!(false)),
        ("'hello'.toBoolean()", json!(true)),
        ("'123'.toNumber()", json!(123)),
        ("'1.23E10'.toNumber()", json!(12300000000i64)),
        (
            "'quick! brown FOX'.toSentenceCase()",
            json!("Quick! Brown fox"),
        ),
        ("'quick brown $FOX'.toSnakeCase()", json!("quick_brown_fox")),
        ("'john SMITH doe'.toTitleCase()", json!("John SMITH Doe")),
        (
            "'The \"best\" colours: red\\nbrown'.toJsonString()",
            json!("\"The \\\"best\\\" colours: red\\nbrown\""),
        ),
        (
            "'name%3DNathan%20Automat'.urlDecode()",
            json!("name=Nathan Automat"),
        ),
        (
            "'name%3DNathan%20Automat'.urlDecode(true)",
            json!("name%3DNathan Automat"),
        ),
        (
            "'name=Nathan Automat'.urlEncode()",
            json!("name%3DNathan%20Automat"),
        ),
        (
            "'name=Nathan Automat'.urlEncode(true)",
            json!("name=Nathan%20Automat"),
        ),
        ("$json.price.toFloat()", json!(19.99)),
        ("$json.price.toInt()", json!(19)),
    ]);
}

#[test]
fn array_methods_and_extensions() {
    check(&[
        ("[12, 33, 16, 40].filter(age => age > 18)", json!([33, 40])),
        ("[12, 33, 16, 40].find(age => age > 18)", json!(33)),
        ("[12, 33, 16].reduce((r, n) => r + n, 0)", json!(61)),
        ("['a', 'b', 'c'].reduce((r, c) => r + c.toUpperCase(), '')", json!("ABC")),
        ("[4, 2, 1, 3].sort((a, b) => a - b)", json!([1, 2, 3, 4])),
        ("['d', 'a', 'c', 'b'].sort()", json!(["a", "b", "c", "d"])),
        ("[10, 9, 1].sort()", json!([1, 10, 9])),
        ("$json.people.sort((a, b) => a.name.localeCompare(b.name)).map(p => p.name)", json!(["Amy", "Zed"])),
        ("['Wind', 'Water', 'Fire'].join(' + ')", json!("Wind + Water + Fire")),
        ("[1, [2, [3]]].flat()", json!([1, 2, [3]])),
        ("[1, 2].flatMap(x => [x, x * 10])", json!([1, 10, 2, 20])),
        ("[1, 2, 3].some(x => x > 2)", json!(true)),
        ("[1, 2, 3].every(x => x > 2)", json!(false)),
        ("[1, 2, 3].findIndex(x => x === 2)", json!(1)),
        ("[1, 2, 3, 4, 5].slice(-2)", json!([4, 5])),
        ("['Jan', 'Mar'].toSpliced(1, 0, 'Feb')", json!(["Jan", "Feb", "Mar"])),
        ("[NaN].includes(NaN)", json!(true)),
        ("$json.tags.indexOf('c')", json!(2)),
        ("$json.tags.reverse()", json!(["c", "b", "a"])),
        ("[1, 2, 3].at(-1)", json!(3)),
        ("['forget', 'me'].append('not')", json!(["forget", "me", "not"])),
        ("[12, 1, 5].average()", json!(6)),
        ("[1, 2, 3, 4, 5, 6].chunk(2)", json!([[1, 2], [3, 4], [5, 6]])),
        ("[2, null, 1, ''].compact()", json!([2, 1])),
        ("[1, 2, 3].difference([2, 3])", json!([1])),
        ("['quick', 'brown', 'fox'].first()", json!("quick")),
        ("['quick', 'brown', 'fox'].last()", json!("fox")),
        ("[1, 2].intersection([2, 3])", json!([2])),
        ("[].isEmpty()", json!(true)),
        ("[1].isNotEmpty()", json!(true)),
        ("[1, 12, 5].max()", json!(12)),
        ("[12, 1, 5].min()", json!(1)),
        ("[{'name':'Nathan','age':42},{'name':'Jan','city':'Berlin'}].pluck('name')", json!(["Nathan", "Jan"])),
        ("[{'name':'Nathan','age':42},{'name':'Jan','city':'Berlin'}].pluck('age')", json!([42])),
        ("['quick', 'brown', 'quick'].removeDuplicates()", json!(["quick", "brown"])),
        ("[{'name':'bob'},{'name':'meg'}].renameKeys('name', 'x')", json!([{"x": "bob"}, {"x": "meg"}])),
        ("[{'field':'age','value':2},{'field':'city','value':'Berlin'}].smartJoin('field','value')", json!({"age": 2, "city": "Berlin"})),
        ("[12, 1, 5].sum()", json!(18)),
        ("['quick', 'brown', 'fox'].toJsonString()", json!("[\"quick\",\"brown\",\"fox\"]")),
        ("[1, 2].union([2, 3])", json!([1, 2, 3])),
        ("['quick', 'brown', 'quick'].unique()", json!(["quick", "brown"])),
        ("['make', 'my', 'day'].toString()", json!("make,my,day")),
        ("$json.nums.sum() + $json.nums.length", json!(9)),
    ]);
}

#[test]
fn number_boolean_object_extensions() {
    check(&[
        ("(-1.7).abs()", json!(1.7)),
        ("(1.234).ceil()", json!(2)),
        ("(1.234).floor()", json!(1)),
        ("(1.256).round()", json!(1)),
        ("(1.256).round(1)", json!(1.3)),
        ("(1.256).round(2)", json!(1.26)),
        ("(33).isEven()", json!(false)),
        ("(33).isOdd()", json!(true)),
        ("(4).isInteger()", json!(true)),
        ("(4.12).isInteger()", json!(false)),
        ("(0).isEmpty()", json!(true)),
        ("(12).toBoolean()", json!(true)),
        ("(123456.789).format('de-DE')", json!("123.456,789")),
        ("(500000.125).toLocaleString()", json!("500,000.125")),
        ("(500000.125).toString(16)", json!("7a120.2")),
        ("(1.005).toFixed(2)", json!("1.00")),
        ("(255).toString(2)", json!("11111111")),
        ("(123.456).toPrecision(4)", json!("123.5")),
        ("true.toInt()", json!(1)),
        ("false.toString()", json!("false")),
        ("({'x':null, 'y':2, 'z':''}).compact()", json!({"y": 2})),
        (
            "({'name':'Nathan', 'age':42}).hasField('name')",
            json!(true),
        ),
        (
            "({'name':'Nathan', 'age':42}).hasField('Name')",
            json!(false),
        ),
        ("({}).isEmpty()", json!(true)),
        (
            "({'name':'Mr Nathan', 'city':'hanoi', age: 42}).keepFieldsContaining('han')",
            json!({"name": "Mr Nathan", "city": "hanoi"}),
        ),
        (
            "({'name':'Mr Nathan', 'city':'hanoi', age: 42}).removeFieldsContaining('Nathan')",
            json!({"city": "hanoi", "age": 42}),
        ),
        (
            "({'name':'Mr Nathan', age: 42}).keys()",
            json!(["name", "age"]),
        ),
        (
            "({'name':'Mr Nathan', age: 42}).values()",
            json!(["Mr Nathan", 42]),
        ),
        (
            "({'name':'Nathan', 'city':'hanoi'}).removeField('name')",
            json!({"city": "hanoi"}),
        ),
        (
            "({'name':'Nathan', age:42}).toJsonString()",
            json!("{\"name\":\"Nathan\",\"age\":42}"),
        ),
        (
            "({'name':'Mr Nathan', 'city':'hanoi'}).urlEncode()",
            json!("name=Mr+Nathan&city=hanoi"),
        ),
        ("$json.nested.hasOwnProperty('deep')", json!(true)),
        ("$json.isNotEmpty()", json!(true)),
        ("$json.missing.isEmpty()", json!(true)),
    ]);
}

#[test]
fn globals() {
    check(&[
        ("Math.max(1, 5, 3)", json!(5)),
        ("Math.round(2.5)", json!(3)),
        ("Math.round(-2.5)", json!(-2)),
        ("Math.floor(-1.5)", json!(-2)),
        ("Math.PI > 3", json!(true)),
        (
            "JSON.stringify({a: [1, 'x'], b: undefined})",
            json!("{\"a\":[1,\"x\"]}"),
        ),
        ("JSON.stringify({a: 1}, null, 2)", json!("{\n  \"a\": 1\n}")),
        (
            "JSON.stringify($json.nested)",
            json!("{\"deep\":{\"value\":1}}"),
        ),
        ("JSON.parse('{\"a\":[1,2]}').a[1]", json!(2)),
        ("Number('12.5')", json!(12.5)),
        ("Number('')", json!(0)),
        ("String(123)", json!("123")),
        ("String(null)", json!("null")),
        ("Boolean('')", json!(false)),
        ("parseInt('42px')", json!(42)),
        ("parseInt('ff', 16)", json!(255)),
        ("parseFloat('3.5kg')", json!(3.5)),
        ("isNaN('abc')", json!(true)),
        ("Object.keys($json.nested)", json!(["deep"])),
        ("Object.values({a: 1, b: 2})", json!([1, 2])),
        ("Object.entries({a: 1})", json!([["a", 1]])),
        ("Object.assign({}, {a: 1}, {b: 2})", json!({"a": 1, "b": 2})),
        ("Object.fromEntries([['a', 1]])", json!({"a": 1})),
        ("Array.isArray($json.tags)", json!(true)),
        ("Array.from({length: 3}, (_, i) => i * 2)", json!([0, 2, 4])),
        ("encodeURIComponent('a b&c/d')", json!("a%20b%26c%2Fd")),
        ("decodeURIComponent('a%20b%26c')", json!("a b&c")),
        (
            "encodeURI('http://x.y/a b?q=1')",
            json!("http://x.y/a%20b?q=1"),
        ),
        ("btoa('hi')", json!("aGk=")),
        ("atob('aGk=')", json!("hi")),
        ("new RegExp('a+', 'g').test('caat')", json!(true)),
        ("Number.isInteger(5)", json!(true)),
        ("Number.MAX_SAFE_INTEGER", json!(9007199254740991i64)),
        ("String.fromCharCode(72, 105)", json!("Hi")),
    ]);
}
