//! n8n's training nodes, which its tutorials and several fixtures use: the Customer Datastore
//! (fixed sample customers) and the Customer Messenger (pretends to message a customer).

use crate::util::params::{unsupported, Reader};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_expr::json_js;
use sluice_model::{Item, NodeDef, Value};

pub const DATASTORE_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.n8nTrainingCustomerDatastore",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build_datastore,
};

pub const MESSENGER_SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.n8nTrainingCustomerMessenger",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build_messenger,
};

/// One of n8n's sample customers.
struct Customer {
    id: &'static str,
    name: &'static str,
    email: &'static str,
    notes: &'static str,
    country: Option<&'static str>,
    created: &'static str,
}

const CUSTOMERS: [Customer; 5] = [
    Customer {
        id: "23423532",
        name: "Jay Gatsby",
        email: "gatsby@west-egg.com",
        notes: "Keeps asking about a green light??",
        country: Some("US"),
        created: "1925-04-10",
    },
    Customer {
        id: "23423533",
        name: "José Arcadio Buendía",
        email: "jab@macondo.co",
        notes: "Lots of people named after him. Very confusing",
        country: Some("CO"),
        created: "1967-05-05",
    },
    Customer {
        id: "23423534",
        name: "Max Sendak",
        email: "info@in-and-out-of-weeks.org",
        notes: "Keeps rolling his terrible eyes",
        country: Some("US"),
        created: "1963-04-09",
    },
    Customer {
        id: "23423535",
        name: "Zaphod Beeblebrox",
        email: "captain@heartofgold.com",
        notes: "Felt like I was talking to more than one person",
        country: None,
        created: "1979-10-12",
    },
    Customer {
        id: "23423536",
        name: "Edmund Pevensie",
        email: "edmund@narnia.gov",
        notes: "Passionate sailor",
        country: Some("UK"),
        created: "1950-10-16",
    },
];

impl Customer {
    fn item(&self) -> Item {
        Item::from_value(serde_json::json!({
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "notes": self.notes,
            "country": self.country,
            "created": self.created,
        }))
    }
}

/// How many customers "Get All People" returns (`returnAll`, else `limit`, default 5).
struct Datastore {
    count: usize,
}

fn build_datastore(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    match r.str_or("operation", "getAllPeople")? {
        "getAllPeople" => {}
        other => return Err(unsupported("operation", other)),
    }
    let count = match r.bool_or("returnAll", false)? {
        true => CUSTOMERS.len(),
        false => r.number_or("limit", 5.0)?.max(0.0) as usize,
    };
    Ok(Box::new(Datastore { count }))
}

#[async_trait::async_trait]
impl Node for Datastore {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = (0..ctx.main_input().len())
            .flat_map(|i| {
                CUSTOMERS
                    .iter()
                    .take(self.count)
                    .map(move |c| c.item().paired_to(i))
            })
            .collect();
        Ok(vec![items])
    }
}

/// Sends (pretends to send) `message` to `customerId`, once per item.
struct Messenger {
    customer_id: Param,
    message: Param,
}

fn build_messenger(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Messenger {
        customer_id: params.at("customerId").clone(),
        message: params.at("message").clone(),
    }))
}

#[async_trait::async_trait]
impl Node for Messenger {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.map_items(|i, _| {
            let text = |param| -> Result<String, NodeError> {
                Ok(match ctx.resolve(param, i)? {
                    Value::Null => String::new(),
                    value => json_js::to_js_string(&value),
                })
            };
            let output = format!(
                "Sent message to customer {}:  {}",
                text(&self.customer_id)?,
                text(&self.message)?
            );
            Ok(Some(
                Item::from_value(serde_json::json!({ "output": output })).paired_to(i),
            ))
        })?;
        Ok(vec![items])
    }
}
