//! The `eth_*` parameters, decoded strictly: hex is 0x-prefixed, quantities are 0x-prefixed
//! hex (or JSON numbers), tags match exactly (as geth matches them), flags are booleans. A
//! parameter that does not decode is refused with a message naming the parameter and the
//! problem (`address: expected 20 bytes, got 2`), code -32602.
//!
//! jsonrpsee's server macro answers a parameter serde refuses with the bare message
//! "Invalid params" and serde's reason in `data`, and a missing one with "No more params".
//! So the trait's parameters are `Option<Arg<T>>`: [`Arg`] always decodes and keeps a
//! refusal for the method to answer ([`required`], [`optional`]), and `Option` lets a
//! missing parameter be answered by its name too.

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, FilterSet, TransactionInput};
use alloy_rpc_types_eth::{Topic, TransactionRequest};
use lazychain_exec_stf::{AccountOverride, BlockOverrides, StateOverrides, StorageOverride};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Why a parameter was refused; the message names the parameter.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("{what}: expected a hex string, got {got}")]
    NotHex { what: &'static str, got: Value },
    #[error("{what}: hex string must start with 0x")]
    HexPrefix { what: &'static str },
    #[error("{what}: invalid hex ({reason})")]
    InvalidHex {
        what: &'static str,
        reason: hex::FromHexError,
    },
    #[error("{what}: expected {want} bytes, got {got}")]
    Length {
        what: &'static str,
        want: usize,
        got: usize,
    },
    #[error("{what}: a quantity is 0x-prefixed hex, got {got:?}")]
    QuantityPrefix { what: &'static str, got: String },
    #[error("{what}: a quantity needs hex digits after 0x, got \"0x\"")]
    EmptyQuantity { what: &'static str },
    #[error("{what}: {reason}")]
    QuantityDigits { what: &'static str, reason: String },
    #[error("{what}: not a non-negative integer")]
    NotNonNegative { what: &'static str },
    #[error("{what}: expected a quantity, got {got}")]
    NotQuantity { what: &'static str, got: Value },
    #[error("{what}: too large")]
    TooLarge { what: &'static str },
    #[error("{what}: expected true or false, got {got}")]
    NotBool { what: &'static str, got: Value },
    #[error("{what}: expected an object, got {got}")]
    NotObject { what: &'static str, got: Value },
    #[error("{what}: expected an array, got {got}")]
    NotArray { what: &'static str, got: Value },
    #[error("{what}: numbers")]
    NotNumbers { what: &'static str },
    #[error("block: a block object has blockNumber or blockHash, got {got}")]
    BlockObject { got: Value },
    #[error("block hash selectors are not supported; pass a number or tag")]
    HashSelector,
    #[error("missing the call object")]
    MissingCall,
    #[error("at most 4 topic positions")]
    TooManyTopics,
    /// geth refuses an account override with both.
    #[error("account {address} has both 'state' and 'stateDiff'")]
    StateAndStateDiff { address: Address },
    #[error("{what}: unknown field {field:?}")]
    UnknownField { what: &'static str, field: String },
    #[error("{what}: {field} is not supported here")]
    Unsupported { what: &'static str, field: String },
    /// A field of a call object that only alloy's type decodes (nonce, accessList, ...).
    #[error("call: {reason}")]
    Call { reason: String },
    /// A parameter another library decodes (the tracers' options), with its reason.
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

type ParamResult<T> = Result<T, ParamError>;

/// A parameter type: how it decodes from its JSON value. `null` stands for a missing
/// parameter, so a required parameter refuses it by name.
pub trait FromParam: Sized {
    fn from_param(value: &Value) -> ParamResult<Self>;
}

/// A parameter as decoded: the value, or why it was refused (answered by the method).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg<T>(pub ParamResult<T>);

impl<'de, T: FromParam> Deserialize<'de> for Arg<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Any JSON value decodes; only the parameter's own rules refuse it.
        let value = Value::deserialize(deserializer)?;
        Ok(Arg(T::from_param(&value)))
    }
}

/// A required parameter; missing or `null` is refused by its name.
pub fn required<T: FromParam>(arg: Option<Arg<T>>) -> ParamResult<T> {
    match arg {
        Some(Arg(decoded)) => decoded,
        None => T::from_param(&Value::Null),
    }
}

/// An optional parameter; missing or `null` is `None`.
pub fn optional<T>(arg: Option<Arg<T>>) -> ParamResult<Option<T>> {
    arg.map(|Arg(decoded)| decoded).transpose()
}

fn hex_bytes(v: &Value, what: &'static str) -> ParamResult<Vec<u8>> {
    let s = v.as_str().ok_or_else(|| ParamError::NotHex {
        what,
        got: v.clone(),
    })?;
    let digits = s.strip_prefix("0x").ok_or(ParamError::HexPrefix { what })?;
    hex::decode(digits).map_err(|reason| ParamError::InvalidHex { what, reason })
}

fn fixed<const N: usize>(v: &Value, what: &'static str) -> ParamResult<[u8; N]> {
    let bytes = hex_bytes(v, what)?;
    let got = bytes.len();
    bytes
        .try_into()
        .map_err(|_| ParamError::Length { what, want: N, got })
}

fn address(v: &Value, what: &'static str) -> ParamResult<Address> {
    fixed::<20>(v, what).map(Address::from)
}

fn b256(v: &Value, what: &'static str) -> ParamResult<B256> {
    fixed::<32>(v, what).map(B256::from)
}

/// A quantity: 0x-prefixed hex with at least one digit, or a non-negative JSON integer.
fn u256(v: &Value, what: &'static str) -> ParamResult<U256> {
    match v {
        Value::String(s) => {
            let digits = s
                .strip_prefix("0x")
                .ok_or_else(|| ParamError::QuantityPrefix {
                    what,
                    got: s.clone(),
                })?;
            // "0x" is no number (geth refuses it too), though U256 would read it as zero.
            if digits.is_empty() {
                return Err(ParamError::EmptyQuantity { what });
            }
            U256::from_str_radix(digits, 16).map_err(|e| ParamError::QuantityDigits {
                what,
                reason: e.to_string(),
            })
        }
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or(ParamError::NotNonNegative { what }),
        other => Err(ParamError::NotQuantity {
            what,
            got: other.clone(),
        }),
    }
}

fn u64_quantity(v: &Value, what: &'static str) -> ParamResult<u64> {
    u64::try_from(u256(v, what)?).map_err(|_| ParamError::TooLarge { what })
}

fn u128_quantity(v: &Value, what: &'static str) -> ParamResult<u128> {
    u128::try_from(u256(v, what)?).map_err(|_| ParamError::TooLarge { what })
}

/// A tag (matched exactly, as geth does) or a block number.
fn number_or_tag(v: &Value, what: &'static str) -> ParamResult<BlockNumberOrTag> {
    let tag = match v.as_str() {
        Some("latest") => BlockNumberOrTag::Latest,
        Some("pending") => BlockNumberOrTag::Pending,
        Some("safe") => BlockNumberOrTag::Safe,
        Some("finalized") => BlockNumberOrTag::Finalized,
        Some("earliest") => BlockNumberOrTag::Earliest,
        _ => BlockNumberOrTag::Number(u64_quantity(v, what)?),
    };
    Ok(tag)
}

/// A block parameter: a tag, a quantity, or an EIP-1898 object (`blockNumber` or
/// `blockHash`; a hash is refused when resolved, as no state is kept by hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockParam(pub BlockId);

impl BlockParam {
    pub fn is_pending(&self) -> bool {
        self.0 == BlockId::Number(BlockNumberOrTag::Pending)
    }
}

impl From<BlockNumberOrTag> for BlockParam {
    fn from(n: BlockNumberOrTag) -> Self {
        BlockParam(BlockId::Number(n))
    }
}

impl FromParam for BlockParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        let Value::Object(o) = v else {
            return number_or_tag(v, "block").map(BlockParam::from);
        };
        if let Some(n) = o.get("blockNumber") {
            return u64_quantity(n, "blockNumber").map(|n| BlockNumberOrTag::Number(n).into());
        }
        match o.get("blockHash") {
            Some(hash) => Ok(BlockParam(BlockId::from(b256(hash, "blockHash")?))),
            None => Err(ParamError::BlockObject { got: v.clone() }),
        }
    }
}

/// `eth_getBlockReceipts`' block: a block parameter, or a bare block hash (as geth takes it
/// there: a 32-byte hex string is a hash, not a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockOrHashParam(pub BlockParam);

impl FromParam for BlockOrHashParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        match v.as_str() {
            Some(s) if s.len() == 66 => Ok(BlockOrHashParam(BlockParam(BlockId::from(b256(
                v,
                "blockHash",
            )?)))),
            _ => BlockParam::from_param(v).map(BlockOrHashParam),
        }
    }
}

/// The account an `eth_get*` state read is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressParam(pub Address);

impl FromParam for AddressParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        address(v, "address").map(AddressParam)
    }
}

/// `eth_getBlockByHash`'s hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHashParam(pub B256);

impl FromParam for BlockHashParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        b256(v, "block hash").map(BlockHashParam)
    }
}

/// A transaction hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxHashParam(pub B256);

impl FromParam for TxHashParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        b256(v, "transaction hash").map(TxHashParam)
    }
}

/// `eth_getStorageAt`'s slot, a quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotParam(pub U256);

impl FromParam for SlotParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        u256(v, "slot").map(SlotParam)
    }
}

/// A transaction's index in its block (`eth_getTransactionByBlock*AndIndex`), a quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexParam(pub u64);

impl FromParam for IndexParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        u64_quantity(v, "index").map(IndexParam)
    }
}

/// `eth_feeHistory`'s block count, a quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCountParam(pub u64);

impl FromParam for BlockCountParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        u64_quantity(v, "blockCount").map(BlockCountParam)
    }
}

/// `eth_feeHistory`'s reward percentiles, JSON numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct PercentilesParam(pub Vec<f64>);

impl FromParam for PercentilesParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        const WHAT: &str = "rewardPercentiles";
        let Value::Array(items) = v else {
            return Err(ParamError::NotArray {
                what: WHAT,
                got: v.clone(),
            });
        };
        items
            .iter()
            .map(|p| p.as_f64().ok_or(ParamError::NotNumbers { what: WHAT }))
            .collect::<ParamResult<_>>()
            .map(PercentilesParam)
    }
}

/// The "full transactions" flag of `eth_getBlockBy*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullParam(pub bool);

impl FromParam for FullParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        v.as_bool()
            .map(FullParam)
            .ok_or_else(|| ParamError::NotBool {
                what: "full",
                got: v.clone(),
            })
    }
}

/// The call object of `eth_call` and `eth_estimateGas`. The fields a call runs with are
/// decoded here strictly and by name; any other field is alloy's to decode.
#[derive(Clone, Debug, PartialEq)]
pub struct CallParam(pub TransactionRequest);

/// The fields [`CallParam`] decodes itself; alloy must not see them (it is lenient).
const CALL_FIELDS: &[&str] = &[
    "input",
    "data",
    "from",
    "to",
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "value",
];

impl FromParam for CallParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Err(ParamError::MissingCall),
            other => {
                return Err(ParamError::NotObject {
                    what: "call",
                    got: other.clone(),
                })
            }
        };
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        // cast sends both `data` and `input`; `input` wins, as in geth (the other is ignored).
        let input = match get("input")
            .map(|v| ("input", v))
            .or(get("data").map(|v| ("data", v)))
        {
            Some((what, v)) => Some(hex_bytes(v, what)?),
            None => None,
        };
        let from = get("from").map(|v| address(v, "from")).transpose()?;
        let to = get("to").map(|v| address(v, "to")).transpose()?;
        let gas = get("gas").map(|v| u64_quantity(v, "gas")).transpose()?;
        let quantity = |k: &'static str| get(k).map(|v| u128_quantity(v, k)).transpose();
        let gas_price = quantity("gasPrice")?;
        let max_fee_per_gas = quantity("maxFeePerGas")?;
        let max_priority_fee_per_gas = quantity("maxPriorityFeePerGas")?;
        let value = get("value").map(|v| u256(v, "value")).transpose()?;

        let rest: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !CALL_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut request: TransactionRequest =
            serde_json::from_value(Value::Object(rest)).map_err(|e| ParamError::Call {
                reason: e.to_string(),
            })?;
        request.from = from;
        request.to = to.map(TxKind::Call);
        request.gas = gas;
        request.gas_price = gas_price;
        request.max_fee_per_gas = max_fee_per_gas;
        request.max_priority_fee_per_gas = max_priority_fee_per_gas;
        request.value = value;
        if let Some(bytes) = input {
            request.input = TransactionInput::new(Bytes::from(bytes));
        }
        Ok(CallParam(request))
    }
}

/// `eth_call`'s and `eth_estimateGas`'s state overrides: address -> `balance`, `nonce`,
/// `code`, `state` or `stateDiff` (slot -> value), as geth takes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateOverridesParam(pub StateOverrides);

impl FromParam for StateOverridesParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        let mut overrides = StateOverrides::new();
        for (key, account) in object(v, "stateOverrides")? {
            let address = address(&Value::String(key.clone()), "stateOverrides")?;
            overrides.insert(address, account_override(address, account)?);
        }
        Ok(StateOverridesParam(overrides))
    }
}

fn object<'v>(v: &'v Value, what: &'static str) -> ParamResult<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| ParamError::NotObject {
        what,
        got: v.clone(),
    })
}

fn account_override(address: Address, v: &Value) -> ParamResult<AccountOverride> {
    let mut o = AccountOverride::default();
    let (mut state, mut diff) = (None, None);
    for (field, value) in object(v, "account override")? {
        if value.is_null() {
            continue;
        }
        match field.as_str() {
            "balance" => o.balance = Some(u256(value, "balance")?),
            "nonce" => o.nonce = Some(u64_quantity(value, "nonce")?),
            "code" => o.code = Some(Bytes::from(hex_bytes(value, "code")?)),
            "state" => state = Some(slots(value, "state")?),
            "stateDiff" => diff = Some(slots(value, "stateDiff")?),
            "movePrecompileToAddress" => {
                return Err(ParamError::Unsupported {
                    what: "account override",
                    field: field.clone(),
                })
            }
            _ => {
                return Err(ParamError::UnknownField {
                    what: "account override",
                    field: field.clone(),
                })
            }
        }
    }
    o.storage = match (state, diff) {
        (Some(_), Some(_)) => return Err(ParamError::StateAndStateDiff { address }),
        (Some(slots), None) => Some(StorageOverride::Replace(slots)),
        (None, Some(slots)) => Some(StorageOverride::Diff(slots)),
        (None, None) => None,
    };
    Ok(o)
}

/// Slot -> value, both 32-byte words (as geth takes them).
fn slots(v: &Value, what: &'static str) -> ParamResult<std::collections::HashMap<U256, U256>> {
    object(v, what)?
        .iter()
        .map(|(slot, value)| {
            let slot = b256(&Value::String(slot.clone()), what)?;
            Ok((
                U256::from_be_bytes(slot.0),
                U256::from_be_bytes(b256(value, what)?.0),
            ))
        })
        .collect()
}

/// `eth_call`'s and `eth_estimateGas`'s block overrides, by geth's names or alloy's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockOverridesParam(pub BlockOverrides);

impl FromParam for BlockOverridesParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        let mut o = BlockOverrides::default();
        for (field, value) in object(v, "blockOverrides")? {
            if value.is_null() {
                continue;
            }
            match field.as_str() {
                "number" | "blockNumber" => o.number = Some(u64_quantity(value, "number")?),
                "time" | "timestamp" => o.time = Some(u64_quantity(value, "time")?),
                "gasLimit" => o.gas_limit = Some(u64_quantity(value, "gasLimit")?),
                "feeRecipient" | "coinbase" => o.coinbase = Some(address(value, "feeRecipient")?),
                "baseFeePerGas" | "baseFee" => {
                    o.base_fee = Some(u64_quantity(value, "baseFeePerGas")?)
                }
                "prevRandao" | "random" => o.random = Some(b256(value, "prevRandao")?),
                // Not observable since the merge: DIFFICULTY reads PREVRANDAO.
                "difficulty" => {
                    u256(value, "difficulty")?;
                }
                "blobBaseFee" | "beaconRoot" | "withdrawals" => {
                    return Err(ParamError::Unsupported {
                        what: "blockOverrides",
                        field: field.clone(),
                    })
                }
                _ => {
                    return Err(ParamError::UnknownField {
                        what: "blockOverrides",
                        field: field.clone(),
                    })
                }
            }
        }
        Ok(BlockOverridesParam(o))
    }
}

/// `eth_getLogs`'s filter (missing or `null`: every log of the latest block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterParam(pub Filter);

impl FromParam for FilterParam {
    fn from_param(v: &Value) -> ParamResult<Self> {
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Ok(FilterParam(Filter::default())),
            other => {
                return Err(ParamError::NotObject {
                    what: "filter",
                    got: other.clone(),
                })
            }
        };
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let block_option = match get("blockHash") {
            Some(hash) => FilterBlockOption::AtBlockHash(b256(hash, "blockHash")?),
            None => FilterBlockOption::Range {
                from_block: get("fromBlock").map(range_end).transpose()?,
                to_block: get("toBlock").map(range_end).transpose()?,
            },
        };
        let address = match get("address") {
            None => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| address(a, "address"))
                .collect::<ParamResult<_>>()?,
            Some(one) => vec![address(one, "address")?],
        };
        let mut topics: [Topic; 4] = Default::default();
        match get("topics") {
            None => {}
            Some(Value::Array(list)) if list.len() > topics.len() => {
                return Err(ParamError::TooManyTopics)
            }
            Some(Value::Array(list)) => {
                for (slot, position) in topics.iter_mut().zip(list) {
                    *slot = match position {
                        Value::Null => Topic::default(),
                        Value::Array(any) => any
                            .iter()
                            .map(|t| b256(t, "topic"))
                            .collect::<ParamResult<Vec<_>>>()?
                            .into(),
                        one => vec![b256(one, "topic")?].into(),
                    };
                }
            }
            Some(other) => {
                return Err(ParamError::NotArray {
                    what: "topics",
                    got: other.clone(),
                })
            }
        }
        Ok(FilterParam(Filter {
            block_option,
            address: FilterSet::from(address),
            topics,
        }))
    }
}

/// `fromBlock` / `toBlock`: a block parameter that is not a hash.
fn range_end(v: &Value) -> ParamResult<BlockNumberOrTag> {
    match BlockParam::from_param(v)?.0 {
        BlockId::Number(n) => Ok(n),
        BlockId::Hash(_) => Err(ParamError::HashSelector),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message<T: FromParam + std::fmt::Debug>(v: Value) -> String {
        match T::from_param(&v) {
            Ok(t) => format!("accepted {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn addresses_are_0x_hex_of_20_bytes() {
        let b0b = Address::repeat_byte(0xb0);
        assert_eq!(
            AddressParam::from_param(&json!(b0b.to_checksum(None))),
            Ok(AddressParam(b0b))
        );
        assert_eq!(
            message::<AddressParam>(json!("0x1234")),
            "address: expected 20 bytes, got 2"
        );
        assert_eq!(
            message::<AddressParam>(json!("b0".repeat(20))),
            "address: hex string must start with 0x"
        );
        assert_eq!(
            message::<AddressParam>(json!(42)),
            "address: expected a hex string, got 42"
        );
        assert_eq!(
            message::<AddressParam>(json!("0xzz")),
            "address: invalid hex (Invalid character 'z' at position 0)"
        );
        assert_eq!(
            message::<TxHashParam>(json!("0x1234")),
            "transaction hash: expected 32 bytes, got 2"
        );
        assert_eq!(
            message::<BlockHashParam>(json!("0x00")),
            "block hash: expected 32 bytes, got 1"
        );
    }

    #[test]
    fn quantities_are_0x_hex_or_json_integers() {
        assert_eq!(
            SlotParam::from_param(&json!("0x10")),
            Ok(SlotParam(U256::from(16)))
        );
        assert_eq!(
            SlotParam::from_param(&json!(16)),
            Ok(SlotParam(U256::from(16)))
        );
        assert_eq!(
            message::<SlotParam>(json!("zz")),
            "slot: a quantity is 0x-prefixed hex, got \"zz\""
        );
        assert_eq!(
            message::<SlotParam>(json!("0x")),
            "slot: a quantity needs hex digits after 0x, got \"0x\""
        );
        assert_eq!(
            message::<SlotParam>(json!(-1)),
            "slot: not a non-negative integer"
        );
        assert_eq!(IndexParam::from_param(&json!("0x2")), Ok(IndexParam(2)));
        assert_eq!(
            message::<IndexParam>(json!("2")),
            "index: a quantity is 0x-prefixed hex, got \"2\""
        );
        assert_eq!(
            message::<BlockCountParam>(json!("four")),
            "blockCount: a quantity is 0x-prefixed hex, got \"four\""
        );
        assert_eq!(
            message::<BlockCountParam>(json!(format!("0x1{}", "0".repeat(16)))),
            "blockCount: too large"
        );
    }

    #[test]
    fn block_tags_match_exactly() {
        let block = |v: Value| BlockParam::from_param(&v);
        assert_eq!(block(json!("latest")), Ok(BlockNumberOrTag::Latest.into()));
        assert!(block(json!("pending")).is_ok_and(|b| b.is_pending()));
        assert_eq!(block(json!("safe")), Ok(BlockNumberOrTag::Safe.into()));
        assert_eq!(
            block(json!("finalized")),
            Ok(BlockNumberOrTag::Finalized.into())
        );
        assert_eq!(
            block(json!("earliest")),
            Ok(BlockNumberOrTag::Earliest.into())
        );
        assert_eq!(
            block(json!("0x10")),
            Ok(BlockNumberOrTag::Number(16).into())
        );
        assert_eq!(block(json!(16)), Ok(BlockNumberOrTag::Number(16).into()));
        assert_eq!(
            block(json!({"blockNumber": "0x3"})),
            Ok(BlockNumberOrTag::Number(3).into())
        );
        assert!(matches!(
            block(json!({"blockHash": format!("0x{}", "11".repeat(32))})),
            Ok(BlockParam(BlockId::Hash(_)))
        ));
        assert_eq!(
            message::<BlockParam>(json!("LATEST")),
            "block: a quantity is 0x-prefixed hex, got \"LATEST\""
        );
        assert_eq!(
            message::<BlockParam>(json!("yesterday")),
            "block: a quantity is 0x-prefixed hex, got \"yesterday\""
        );
        assert_eq!(
            message::<BlockParam>(json!("0x")),
            "block: a quantity needs hex digits after 0x, got \"0x\""
        );
        assert_eq!(
            message::<BlockParam>(json!(true)),
            "block: expected a quantity, got true"
        );
        assert_eq!(
            message::<BlockParam>(json!({"blockNumber": "3"})),
            "blockNumber: a quantity is 0x-prefixed hex, got \"3\""
        );
        let hash = B256::repeat_byte(0x11);
        assert_eq!(
            BlockOrHashParam::from_param(&json!(hash)),
            Ok(BlockOrHashParam(BlockParam(BlockId::from(hash))))
        );
        assert_eq!(
            BlockOrHashParam::from_param(&json!("latest")),
            Ok(BlockOrHashParam(BlockNumberOrTag::Latest.into()))
        );
        assert_eq!(
            message::<BlockParam>(json!({})),
            "block: a block object has blockNumber or blockHash, got {}"
        );
    }

    #[test]
    fn flags_and_percentiles_have_their_json_types() {
        assert_eq!(FullParam::from_param(&json!(true)), Ok(FullParam(true)));
        assert_eq!(
            message::<FullParam>(json!("yes")),
            "full: expected true or false, got \"yes\""
        );
        assert_eq!(
            PercentilesParam::from_param(&json!([25, 75.5])),
            Ok(PercentilesParam(vec![25.0, 75.5]))
        );
        assert_eq!(
            message::<PercentilesParam>(json!(["high"])),
            "rewardPercentiles: numbers"
        );
        assert_eq!(
            message::<PercentilesParam>(json!("high")),
            "rewardPercentiles: expected an array, got \"high\""
        );
    }

    #[test]
    fn call_objects_decode_their_fields_by_name() {
        let to = Address::repeat_byte(0xb0);
        let Ok(CallParam(request)) = CallParam::from_param(&json!({
            "to": to.to_checksum(None),
            "value": "0x12",
            "gas": 21000,
            "data": "0x01",
            "input": "0x02",
            "nonce": "0x5",
        })) else {
            panic!("a valid call object is refused");
        };
        assert_eq!(request.to, Some(TxKind::Call(to)));
        assert_eq!(request.value, Some(U256::from(0x12)));
        assert_eq!(request.gas, Some(21_000));
        assert_eq!(request.nonce, Some(5));
        // `input` wins over `data`, which is then not looked at.
        assert_eq!(request.input.input(), Some(&Bytes::from_static(&[2])));
        let both = json!({"input": "0x02", "data": "not hex"});
        assert!(CallParam::from_param(&both).is_ok());
        assert_eq!(
            message::<CallParam>(json!({"data": "0x1"})),
            "data: invalid hex (Odd number of digits)"
        );
        assert_eq!(
            message::<CallParam>(json!({"to": to, "value": "12"})),
            "value: a quantity is 0x-prefixed hex, got \"12\""
        );
        assert_eq!(
            message::<CallParam>(json!({"to": "0x1234"})),
            "to: expected 20 bytes, got 2"
        );
        assert_eq!(
            message::<CallParam>(json!("not an object")),
            "call: expected an object, got \"not an object\""
        );
        assert_eq!(message::<CallParam>(Value::Null), "missing the call object");
        assert!(message::<CallParam>(json!({"nonce": "five"})).starts_with("call: "));
    }

    #[test]
    fn state_overrides_decode_per_account() {
        let a = Address::repeat_byte(0xa1);
        let slot = B256::with_last_byte(1);
        let Ok(StateOverridesParam(o)) = StateOverridesParam::from_param(&json!({
            a.to_string(): {"balance": "0x10", "nonce": "0x2", "code": "0x6001",
                            "stateDiff": {slot.to_string(): B256::with_last_byte(9)}},
        })) else {
            panic!("valid overrides are refused");
        };
        let account = o.get(&a).cloned().unwrap_or_default();
        assert_eq!(account.balance, Some(U256::from(16)));
        assert_eq!(account.nonce, Some(2));
        assert_eq!(account.code, Some(Bytes::from_static(&[0x60, 0x01])));
        assert_eq!(
            account.storage,
            Some(StorageOverride::Diff(
                [(U256::from(1), U256::from(9))].into_iter().collect()
            ))
        );
        assert_eq!(
            message::<StateOverridesParam>(json!({a.to_string(): {"state": {}, "stateDiff": {}}})),
            format!("account {a} has both 'state' and 'stateDiff'")
        );
        assert_eq!(
            message::<StateOverridesParam>(json!({"0x12": {}})),
            "stateOverrides: expected 20 bytes, got 1"
        );
        assert_eq!(
            message::<StateOverridesParam>(json!({a.to_string(): {"balanse": "0x1"}})),
            "account override: unknown field \"balanse\""
        );
        assert_eq!(
            message::<StateOverridesParam>(json!({a.to_string(): {"state": {"0x01": "0x02"}}})),
            "state: expected 32 bytes, got 1"
        );
    }

    #[test]
    fn block_overrides_take_geths_and_alloys_names() {
        let Ok(BlockOverridesParam(o)) = BlockOverridesParam::from_param(&json!({
            "number": "0x64", "time": "0x10", "gasLimit": "0x1000000",
            "coinbase": Address::repeat_byte(0xc0), "baseFeePerGas": "0x0",
        })) else {
            panic!("valid overrides are refused");
        };
        assert_eq!(
            o,
            BlockOverrides {
                number: Some(100),
                time: Some(16),
                gas_limit: Some(1 << 24),
                coinbase: Some(Address::repeat_byte(0xc0)),
                base_fee: Some(0),
                random: None,
            }
        );
        assert_eq!(
            message::<BlockOverridesParam>(json!({"blobBaseFee": "0x1"})),
            "blockOverrides: blobBaseFee is not supported here"
        );
        assert_eq!(
            message::<BlockOverridesParam>(json!("soon")),
            "blockOverrides: expected an object, got \"soon\""
        );
    }

    #[test]
    fn filters_decode_like_geth() {
        let topic = B256::repeat_byte(0x11);
        let Ok(FilterParam(filter)) = FilterParam::from_param(&json!({
            "fromBlock": "0x1",
            "toBlock": "latest",
            "address": Address::repeat_byte(0xe7),
            "topics": [null, [topic]],
        })) else {
            panic!("a valid filter is refused");
        };
        assert_eq!(
            filter.block_option,
            FilterBlockOption::Range {
                from_block: Some(BlockNumberOrTag::Number(1)),
                to_block: Some(BlockNumberOrTag::Latest),
            }
        );
        assert!(filter.matches_address(Address::repeat_byte(0xe7)));
        assert!(filter.matches_topics(&[B256::ZERO, topic]));
        assert_eq!(
            message::<FilterParam>(json!({"topics": [null, null, null, null, null]})),
            "at most 4 topic positions"
        );
        assert_eq!(
            message::<FilterParam>(json!({"topics": ["0x1234"]})),
            "topic: expected 32 bytes, got 2"
        );
        assert_eq!(
            message::<FilterParam>(json!("logs please")),
            "filter: expected an object, got \"logs please\""
        );
        assert_eq!(
            message::<FilterParam>(json!({"fromBlock": "Latest"})),
            "block: a quantity is 0x-prefixed hex, got \"Latest\""
        );
        assert_eq!(
            message::<FilterParam>(json!({"toBlock": {"blockHash": topic}})),
            "block hash selectors are not supported; pass a number or tag"
        );
    }

    #[test]
    fn missing_parameters_are_refused_by_name() {
        assert_eq!(
            required::<AddressParam>(None).map_err(|e| e.to_string()),
            Err("address: expected a hex string, got null".to_owned())
        );
        assert_eq!(
            required::<SlotParam>(None).map_err(|e| e.to_string()),
            Err("slot: expected a quantity, got null".to_owned())
        );
        assert_eq!(optional::<BlockParam>(None), Ok(None));
        // Any JSON decodes as an `Arg`; the refusal waits for the method.
        let arg: Result<Arg<AddressParam>, _> = serde_json::from_str("[1, 2]");
        assert!(arg.is_ok_and(|a| a.0.is_err()));
    }
}
