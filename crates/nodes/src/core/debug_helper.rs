//! Debug Helper (`n8n-nodes-base.debugHelper`): does nothing, throws a chosen error, or
//! generates seeded random test data (users, emails, UUIDs, nanoids, addresses...). The random
//! values come from our own generator: the same seed gives the same data run after run, but not
//! the values n8n's faker library would produce (only the shape matches).

use crate::util::params::{unsupported, Reader};
use serde_json::json;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.debugHelper",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

enum Mode {
    DoNothing,
    Throw {
        kind: String,
        message: String,
    },
    Random {
        data: DataType,
        seed: String,
        count: usize,
    },
}

#[derive(Clone, Copy)]
enum DataType {
    User,
    Email,
    Uuid,
    Nanoid,
    Address,
    LatLong,
    CreditCard,
    Ipv4,
    Ipv6,
    Mac,
    Url,
    Semver,
}

/// Alphabet and length of generated nanoids.
struct NanoidSpec {
    alphabet: Vec<char>,
    length: usize,
}

struct DebugHelper {
    mode: Mode,
    nanoid: NanoidSpec,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let mode = match r.str_or("category", "throwError")? {
        "doNothing" => Mode::DoNothing,
        "throwError" => Mode::Throw {
            kind: r.str_or("throwErrorType", "NodeApiError")?.to_string(),
            message: r
                .str_or("throwErrorMessage", "Node has thrown an error")?
                .to_string(),
        },
        "randomData" => Mode::Random {
            data: match r.str_or("randomDataType", "user")? {
                "user" => DataType::User,
                "email" => DataType::Email,
                "uuid" => DataType::Uuid,
                "nanoid" => DataType::Nanoid,
                "address" => DataType::Address,
                "latLong" => DataType::LatLong,
                "creditCard" => DataType::CreditCard,
                "ipv4" => DataType::Ipv4,
                "ipv6" => DataType::Ipv6,
                "macAddress" => DataType::Mac,
                "url" => DataType::Url,
                "semver" => DataType::Semver,
                other => return Err(unsupported("randomDataType", other)),
            },
            seed: r.str_or("randomDataSeed", "")?.to_string(),
            count: r.number_or("randomDataCount", 10.0)?.max(0.0) as usize,
        },
        "oom" => {
            return Err(NodeError::new(
                "the Debug Helper's 'Out Of Memory' category is not supported",
            )
            .with_parameter("category"))
        }
        other => return Err(unsupported("category", other)),
    };
    let nanoid = NanoidSpec {
        alphabet: r
            .str_or(
                "nanoidAlphabet",
                "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            )?
            .chars()
            .collect(),
        length: r.number_or("nanoidLength", 16.0)?.max(1.0) as usize,
    };
    Ok(Box::new(DebugHelper { mode, nanoid }))
}

#[async_trait::async_trait]
impl Node for DebugHelper {
    fn passes_input_through(&self) -> bool {
        matches!(self.mode, Mode::DoNothing)
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        match &self.mode {
            Mode::DoNothing => Ok(vec![ctx.main_input().to_vec()]),
            Mode::Throw { kind, message } => Err(NodeError::new(message.clone())
                .with_description(format!("{kind} thrown by the Debug Helper"))),
            Mode::Random { data, seed, count } => {
                let seed = match seed.is_empty() {
                    true => ctx.now().timestamp_nanos_opt().unwrap_or_default() as u64,
                    false => fnv1a(seed),
                };
                let mut rng = SplitMix(seed);
                let items = (0..ctx.main_input().len())
                    .flat_map(|i| std::iter::repeat_n(i, *count))
                    .map(|i| Item::from_value(self.generate(*data, &mut rng)).paired_to(i))
                    .collect();
                Ok(vec![items])
            }
        }
    }
}

const FIRST_NAMES: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
const LAST_NAMES: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];
const DOMAINS: [&str; 4] = ["example.com", "example.org", "example.net", "test.dev"];
const STREETS: [&str; 4] = ["Main Street", "Oak Avenue", "Elm Road", "Harbour Lane"];
const CITIES: [&str; 4] = ["Springfield", "Riverton", "Lakeside", "Hillview"];

impl DebugHelper {
    fn generate(&self, data: DataType, rng: &mut SplitMix) -> Value {
        match data {
            DataType::User => {
                let first = rng.pick(&FIRST_NAMES);
                let last = rng.pick(&LAST_NAMES);
                json!({
                    "uid": rng.uuid(),
                    "email": format!("{}.{}@{}", first.to_lowercase(), last.to_lowercase(), rng.pick(&DOMAINS)),
                    "firstname": first,
                    "lastname": last,
                    "password": rng.text(&ALPHANUMERIC, 12),
                })
            }
            DataType::Email => {
                json!({ "email": format!("{}{}@{}", rng.pick(&FIRST_NAMES).to_lowercase(), rng.below(1000), rng.pick(&DOMAINS)) })
            }
            DataType::Uuid => json!({ "uuid": rng.uuid() }),
            DataType::Nanoid => {
                json!({ "nanoId": rng.text(&self.nanoid.alphabet, self.nanoid.length) })
            }
            DataType::Address => json!({
                "firstname": rng.pick(&FIRST_NAMES),
                "lastname": rng.pick(&LAST_NAMES),
                "street": format!("{} {}", rng.below(999) + 1, rng.pick(&STREETS)),
                "city": rng.pick(&CITIES),
                "zip": format!("{:05}", rng.below(100_000)),
                "country": "United States",
            }),
            DataType::LatLong => json!({
                "lat": (rng.below(180_000_000) as f64 / 1e6) - 90.0,
                "long": (rng.below(360_000_000) as f64 / 1e6) - 180.0,
            }),
            DataType::CreditCard => json!({
                "type": "Visa",
                "number": format!("4{}", rng.text(&DIGITS, 15)),
                "ccv": rng.text(&DIGITS, 3),
                "exp": format!("{:02}/{}", rng.below(12) + 1, 27 + rng.below(5)),
                "holder_name": format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&LAST_NAMES)),
            }),
            DataType::Ipv4 => {
                json!({ "ip": (0..4).map(|_| rng.below(256).to_string()).collect::<Vec<_>>().join(".") })
            }
            DataType::Ipv6 => {
                json!({ "ip": (0..8).map(|_| format!("{:x}", rng.below(65536))).collect::<Vec<_>>().join(":") })
            }
            DataType::Mac => {
                json!({ "mac": (0..6).map(|_| format!("{:02x}", rng.below(256))).collect::<Vec<_>>().join(":") })
            }
            DataType::Url => {
                json!({ "url": format!("https://{}/{}", rng.pick(&DOMAINS), rng.text(&LOWERCASE, 8)) })
            }
            DataType::Semver => {
                json!({ "semver": format!("{}.{}.{}", rng.below(10), rng.below(20), rng.below(50)) })
            }
        }
    }
}

const DIGITS: [char; 10] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const LOWERCASE: [char; 26] = [
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z',
];
const ALPHANUMERIC: [char; 36] = [
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
];

/// FNV-1a: turns a seed text into the generator's start state.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: a tiny deterministic generator, plenty for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }

    fn text(&mut self, alphabet: &[char], length: usize) -> String {
        (0..length)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize])
            .collect()
    }

    /// A version-4 UUID.
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}
