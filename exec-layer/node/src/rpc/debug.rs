//! geth's tracers: `debug_traceTransaction` and `debug_traceCall`, answered as geth answers
//! them, by revm-inspectors' `DebugInspector` (the struct logger by default; `callTracer`,
//! `prestateTracer`, `4byteTracer`, `noopTracer`, `muxTracer`, `flatCallTracer`,
//! `erc7562Tracer`; no JavaScript tracers).
//!
//! A transaction of block `h` is traced on the state after block `h - 1` (so `h - 1` must be in
//! the state history window) after the block's earlier transactions, which the stf runs
//! exactly as block execution ran them. A call is traced as `eth_call` runs it, with its state
//! and block overrides.
//!
//! Bounds: geth's `timeout` option (default 5 s, at most [`MAX_TRACE_TIMEOUT`]) interrupts the
//! traced transaction (not the block's earlier ones, which the block gas limit bounds); the
//! struct logger records at most [`MAX_STRUCT_LOGS`] entries (a trace that would need more is
//! refused unless the caller's `limit` asks for fewer), and every tracer at most
//! [`MAX_RECORDED_BYTES`] of copied memory, call data and return data. The server's
//! `rpc.max_response_body_bytes` still caps the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Log, B256, U256};
use alloy_rpc_types_trace::geth::{GethDebugTracerType, GethDebugTracingOptions, GethTrace};
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_exec_stf::revm::handler::FrameResult;
use lazychain_exec_stf::revm::interpreter::{
    CallInputs, CallOutcome, CreateInputs, CreateOutcome, FrameInput, InstructionResult,
    Interpreter,
};
use lazychain_exec_stf::revm::Inspector;
use lazychain_exec_stf::{
    prepare, trace_block_tx, trace_call, BlockOverrides, Overlay, Overridden, StateOverrides,
    StateRef, TxStatus,
};
use revm_inspectors::tracing::{
    DebugInspector, DebugInspectorError, TraceLimits, TracingInspector, TransactionContext,
};
use serde_json::Value;

use super::error::EthRpcError;
use super::eth::EthRpc;
use super::params::{
    optional, required, Arg, BlockOverridesParam, BlockParam, CallParam, FromParam, ParamError,
    StateOverridesParam, TxHashParam,
};
use crate::executor::ExecShared;

/// geth's default trace timeout.
pub const DEFAULT_TRACE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest `timeout` honoured; a longer one is cut to it.
pub const MAX_TRACE_TIMEOUT: Duration = Duration::from_secs(60);
/// Most struct-log entries the default tracer records (about what 10 MiB of answer holds).
pub const MAX_STRUCT_LOGS: u64 = 50_000;
/// Most bytes of memory snapshots, call inputs and return data a tracer copies.
pub const MAX_RECORDED_BYTES: usize = 256 * 1024 * 1024;
/// How many EVM steps pass between two looks at the clock.
const STEPS_PER_CLOCK_CHECK: u32 = 1024;

/// Why a trace was not answered: an `eth_*` reason, or one of the tracers' own.
#[derive(Debug, thiserror::Error)]
pub enum TraceRpcError {
    #[error(transparent)]
    Eth(#[from] EthRpcError),
    /// geth's answer for a hash it has not executed.
    #[error("transaction not found")]
    TransactionNotFound,
    /// geth's answer for a tracer name it does not know.
    #[error("tracer not found")]
    TracerNotFound,
    #[error("JavaScript tracers are not supported; use a built-in tracer (callTracer, prestateTracer, 4byteTracer, noopTracer, muxTracer, flatCallTracer) or the default struct logger")]
    JsTracer,
    #[error("invalid tracer config")]
    InvalidTracerConfig,
    /// geth's words when the timeout interrupts a trace.
    #[error("execution timeout")]
    Timeout,
    #[error("trace too large: {0}")]
    TooLarge(String),
    /// The transaction never ran in the EVM (the receipt's reason says why).
    #[error("transaction {hash} was not executed by the EVM: {reason}")]
    NotExecuted { hash: B256, reason: String },
}

/// geth's "server error" for everything that is not an `eth_*` error.
const SERVER: i32 = -32000;

impl From<TraceRpcError> for ErrorObjectOwned {
    fn from(e: TraceRpcError) -> Self {
        match e {
            TraceRpcError::Eth(e) => e.into(),
            other => ErrorObjectOwned::owned(SERVER, other.to_string(), None::<()>),
        }
    }
}

impl From<ParamError> for TraceRpcError {
    fn from(e: ParamError) -> Self {
        Self::Eth(e.into())
    }
}

type TraceResult<T> = Result<T, TraceRpcError>;

/// geth's `debug_trace*` methods an executor serves.
#[rpc(server)]
pub trait DebugApi {
    /// A transaction executed here, traced on the state it ran on.
    #[method(name = "debug_traceTransaction", blocking)]
    fn trace_transaction(
        &self,
        hash: Option<Arg<TxHashParam>>,
        options: Option<Arg<TraceOptionsParam>>,
    ) -> TraceResult<GethTrace>;

    /// A call traced as `eth_call` runs it; the options take geth's `stateOverrides` and
    /// `blockOverrides` beside the tracer's.
    #[method(name = "debug_traceCall", blocking)]
    fn trace_call(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        options: Option<Arg<TraceCallOptionsParam>>,
    ) -> TraceResult<GethTrace>;
}

/// The executor's state as the tracers read it (through the `eth_*` methods' helpers).
pub struct DebugRpc {
    exec: Arc<ExecShared>,
    eth: EthRpc,
}

impl DebugRpc {
    pub fn new(exec: Arc<ExecShared>, node: Arc<NodeShared>) -> Self {
        DebugRpc {
            eth: EthRpc::new(exec.clone(), node),
            exec,
        }
    }
}

/// geth's tracer options (`TraceConfig`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceOptionsParam(pub GethDebugTracingOptions);

impl FromParam for TraceOptionsParam {
    fn from_param(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Null => Ok(Self::default()),
            Value::Object(_) => {
                serde_json::from_value(v.clone())
                    .map(Self)
                    .map_err(|e| ParamError::Invalid {
                        what: "tracer options",
                        reason: e.to_string(),
                    })
            }
            other => Err(ParamError::NotObject {
                what: "tracer options",
                got: other.clone(),
            }),
        }
    }
}

/// geth's `TraceCallConfig`: the tracer options with a call's state and block overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceCallOptionsParam {
    pub tracing: GethDebugTracingOptions,
    pub state: StateOverrides,
    pub block: BlockOverrides,
}

impl FromParam for TraceCallOptionsParam {
    fn from_param(v: &Value) -> Result<Self, ParamError> {
        let mut rest = match v {
            Value::Null => return Ok(Self::default()),
            Value::Object(o) => o.clone(),
            other => {
                return Err(ParamError::NotObject {
                    what: "tracer options",
                    got: other.clone(),
                })
            }
        };
        let take = |rest: &mut serde_json::Map<String, Value>, key: &str| {
            rest.remove(key).filter(|v| !v.is_null())
        };
        let state = match take(&mut rest, "stateOverrides") {
            Some(v) => StateOverridesParam::from_param(&v)?.0,
            None => StateOverrides::default(),
        };
        let block = match take(&mut rest, "blockOverrides") {
            Some(v) => BlockOverridesParam::from_param(&v)?.0,
            None => BlockOverrides::default(),
        };
        if take(&mut rest, "txIndex").is_some() {
            return Err(ParamError::Unsupported {
                what: "tracer options",
                field: "txIndex".into(),
            });
        }
        let TraceOptionsParam(tracing) = TraceOptionsParam::from_param(&Value::Object(rest))?;
        Ok(Self {
            tracing,
            state,
            block,
        })
    }
}

/// A tracer for `options`, bounded: the struct logger's entries and every tracer's copied bytes.
/// Returns it with whether the struct-log cap is this node's (not the caller's `limit`).
fn bounded_inspector(
    mut options: GethDebugTracingOptions,
) -> TraceResult<(DebugInspector, Option<u64>)> {
    let mut imposed = None;
    if options.tracer.as_ref().is_none_or(is_default) {
        let asked = options.config.limit.filter(|l| *l != 0);
        if asked.is_none_or(|l| l > MAX_STRUCT_LOGS) {
            // One more than is answered: a trace that records it was too long.
            options.config.limit = Some(MAX_STRUCT_LOGS + 1);
            imposed = Some(MAX_STRUCT_LOGS);
        }
    }
    let mut inspector = DebugInspector::new(options).map_err(|e| match e {
        DebugInspectorError::JsTracerNotEnabled => TraceRpcError::JsTracer,
        DebugInspectorError::UnsupportedTracer => TraceRpcError::TracerNotFound,
        _ => TraceRpcError::InvalidTracerConfig,
    })?;
    if let Some(tracing) = tracing_inspector(&mut inspector) {
        let limits = TraceLimits::default().set_max_recorded_bytes(Some(MAX_RECORDED_BYTES));
        *tracing = std::mem::take(tracing).with_limits(limits);
    }
    Ok((inspector, imposed))
}

fn is_default(tracer: &GethDebugTracerType) -> bool {
    matches!(tracer, GethDebugTracerType::JsTracer(name) if name.is_empty())
}

/// The recording inspector inside `inspector`, if it has one.
fn tracing_inspector(inspector: &mut DebugInspector) -> Option<&mut TracingInspector> {
    match inspector {
        DebugInspector::CallTracer(t, _)
        | DebugInspector::PreStateTracer(t, _)
        | DebugInspector::FlatCallTracer(t)
        | DebugInspector::Erc7562Tracer(t, _)
        | DebugInspector::Default(t, _) => Some(t),
        _ => None,
    }
}

/// Refuses a JavaScript tracer (any tracer name that is not a built-in one) before anything
/// runs: geth's "tracer not found" for a bare name, a pointer to the built-ins for code.
fn check_tracer(options: &GethDebugTracingOptions) -> TraceResult<()> {
    match &options.tracer {
        Some(GethDebugTracerType::JsTracer(code)) if !code.is_empty() => {
            if code.contains('{') || code.contains("function") {
                Err(TraceRpcError::JsTracer)
            } else {
                Err(TraceRpcError::TracerNotFound)
            }
        }
        _ => Ok(()),
    }
}

/// geth's `timeout`: a Go duration (`300ms`, `1m30s`), default five seconds, cut to the
/// maximum.
fn trace_timeout(options: &GethDebugTracingOptions) -> TraceResult<Duration> {
    let Some(text) = &options.timeout else {
        return Ok(DEFAULT_TRACE_TIMEOUT);
    };
    let timeout = go_duration(text).ok_or_else(|| ParamError::Invalid {
        what: "timeout",
        reason: format!("not a duration: {text:?}"),
    })?;
    Ok(timeout.min(MAX_TRACE_TIMEOUT))
}

/// A Go `time.ParseDuration` string without sign: decimal numbers each with a unit.
fn go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|n| *n > 0)?;
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// An inspector that stops the EVM once `deadline` passes: every frame then halts at its next
/// step (so the transaction ends quickly), and the trace is answered with geth's timeout error.
struct Deadline<I> {
    inner: I,
    deadline: Instant,
    steps: u32,
    expired: bool,
}

impl<I> Deadline<I> {
    fn new(inner: I, timeout: Duration) -> Self {
        Deadline {
            inner,
            deadline: Instant::now() + timeout,
            steps: 0,
            expired: false,
        }
    }
}

impl<CTX, I: Inspector<CTX>> Inspector<CTX> for Deadline<I> {
    fn initialize_interp(&mut self, interp: &mut Interpreter, context: &mut CTX) {
        self.inner.initialize_interp(interp, context)
    }

    fn step(&mut self, interp: &mut Interpreter, context: &mut CTX) {
        self.steps = self.steps.wrapping_add(1);
        if !self.expired && self.steps.is_multiple_of(STEPS_PER_CLOCK_CHECK) {
            self.expired = Instant::now() >= self.deadline;
        }
        if self.expired {
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        self.inner.step(interp, context)
    }

    fn step_end(&mut self, interp: &mut Interpreter, context: &mut CTX) {
        self.inner.step_end(interp, context)
    }

    fn log(&mut self, context: &mut CTX, log: Log) {
        self.inner.log(context, log)
    }

    fn log_full(&mut self, interp: &mut Interpreter, context: &mut CTX, log: Log) {
        self.inner.log_full(interp, context, log)
    }

    fn call(&mut self, context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        self.inner.call(context, inputs)
    }

    fn call_end(&mut self, context: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.inner.call_end(context, inputs, outcome)
    }

    fn create(&mut self, context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.inner.create(context, inputs)
    }

    fn create_end(
        &mut self,
        context: &mut CTX,
        inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        self.inner.create_end(context, inputs, outcome)
    }

    fn selfdestruct(&mut self, contract: Address, target: Address, value: U256) {
        self.inner.selfdestruct(contract, target, value)
    }

    fn frame_start(&mut self, context: &mut CTX, input: &mut FrameInput) -> Option<FrameResult> {
        self.inner.frame_start(context, input)
    }

    fn frame_end(&mut self, context: &mut CTX, input: &FrameInput, result: &mut FrameResult) {
        self.inner.frame_end(context, input, result)
    }
}

/// Refuses a trace the bounds cut short: a struct log longer than this node records, or a
/// tracer whose copies ran out of budget.
fn check_size(
    inspector: &mut DebugInspector,
    trace: &GethTrace,
    imposed: Option<u64>,
) -> TraceResult<()> {
    if let (Some(cap), GethTrace::Default(frame)) = (imposed, trace) {
        if frame.struct_logs.len() as u64 > cap {
            return Err(TraceRpcError::TooLarge(format!(
                "more than {cap} struct logs (the limit option answers the first ones)"
            )));
        }
    }
    if tracing_inspector(inspector).is_some_and(|t| t.limit_exceeded()) {
        return Err(TraceRpcError::TooLarge(format!(
            "more than {MAX_RECORDED_BYTES} bytes of memory, call data and return data recorded"
        )));
    }
    Ok(())
}

fn store_error(e: impl std::fmt::Display) -> TraceRpcError {
    TraceRpcError::Eth(EthRpcError::internal(e))
}

impl DebugApiServer for DebugRpc {
    fn trace_transaction(
        &self,
        hash: Option<Arg<TxHashParam>>,
        options: Option<Arg<TraceOptionsParam>>,
    ) -> TraceResult<GethTrace> {
        let TxHashParam(hash) = required(hash)?;
        let options = optional(options)?.map(|o| o.0).unwrap_or_default();
        check_tracer(&options)?;
        let timeout = trace_timeout(&options)?;
        let state = &self.exec.state;
        let (height, index) = state
            .tx_location(&hash)
            .map_err(store_error)?
            .ok_or(TraceRpcError::TransactionNotFound)?;
        // The state the block ran on: the state after the block before it.
        let before = BlockParam(BlockId::Number(BlockNumberOrTag::Number(
            height.saturating_sub(1),
        )));
        let (_, snapshot) = self.eth.state_at(Some(before))?;
        let decided = self
            .exec
            .blocks
            .decided(height)
            .map_err(store_error)?
            .ok_or_else(|| store_error(format!("data block {height} missing")))?;
        let index = index as usize;
        let raw = decided.block.body.transactions().take(index + 1);
        let txs = prepare(raw);
        let params = &self.exec.params;
        let block_hash = B256::from(decided.hash.0);
        let context = params.block_context(&decided.block.header, block_hash);

        let (inspector, imposed) = bounded_inspector(options)?;
        let traced = trace_block_tx(
            params,
            &context,
            &txs,
            index,
            &snapshot,
            Deadline::new(inspector, timeout),
        )
        .map_err(store_error)?;
        if traced.inspector.expired {
            return Err(TraceRpcError::Timeout);
        }
        let Some(result) = traced.result else {
            let reason = match traced.receipt.status {
                TxStatus::Skipped => format!("skipped ({})", traced.receipt.reason),
                _ => traced.receipt.reason.clone(),
            };
            return Err(TraceRpcError::NotExecuted { hash, reason });
        };
        let mut inspector = traced.inspector.inner;
        let before_tx = Overlay {
            base: &snapshot,
            writes: &traced.writes_before,
        };
        let tx_context = TransactionContext::default()
            .with_block_hash(block_hash)
            .with_tx_index(index)
            .with_tx_hash(hash);
        let trace = inspector
            .get_result(
                Some(tx_context),
                &traced.tx_env,
                &traced.block_env,
                &result,
                &mut StateRef(before_tx),
            )
            .map_err(store_error)?;
        check_size(&mut inspector, &trace, imposed)?;
        Ok(trace)
    }

    fn trace_call(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        options: Option<Arg<TraceCallOptionsParam>>,
    ) -> TraceResult<GethTrace> {
        let CallParam(request) = required(request)?;
        let options = optional(options)?.unwrap_or_default();
        check_tracer(&options.tracing)?;
        let timeout = trace_timeout(&options.tracing)?;
        let (request, context, snapshot) = self.eth.call_inputs(request, optional(block)?)?;
        let (params, context) = options.block.apply(&self.exec.params, &context);
        let state = Overridden::new(&snapshot, &options.state);

        let (inspector, imposed) = bounded_inspector(options.tracing)?;
        let traced = trace_call(
            &params,
            &context,
            &request,
            &state,
            Deadline::new(inspector, timeout),
        )
        .map_err(EthRpcError::from)?;
        if traced.inspector.expired {
            return Err(TraceRpcError::Timeout);
        }
        let mut inspector = traced.inspector.inner;
        let trace = inspector
            .get_result(
                None,
                &traced.tx_env,
                &traced.block_env,
                &traced.result,
                &mut StateRef(&state),
            )
            .map_err(store_error)?;
        check_size(&mut inspector, &trace, imposed)?;
        Ok(trace)
    }
}

#[cfg(test)]
mod tests {
    use alloy_rpc_types_trace::geth::GethDebugBuiltInTracerType;

    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(go_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(go_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        assert_eq!(go_duration(""), None);
        assert_eq!(go_duration("5"), None);
        assert_eq!(go_duration("5 s"), None);
        assert_eq!(go_duration("s"), None);
        assert_eq!(go_duration("-5s"), None);
    }

    #[test]
    fn tracer_options_decode_as_geth_sends_them() {
        let opts = TraceOptionsParam::from_param(&serde_json::json!({
            "tracer": "callTracer",
            "tracerConfig": { "onlyTopCall": true, "withLog": true },
            "timeout": "10s"
        }))
        .map(|o| o.0);
        let Ok(opts) = opts else {
            panic!("decodes: {opts:?}");
        };
        assert_eq!(
            opts.tracer,
            Some(GethDebugTracerType::BuiltInTracer(
                GethDebugBuiltInTracerType::CallTracer
            ))
        );
        assert_eq!(trace_timeout(&opts).ok(), Some(Duration::from_secs(10)));
        assert!(check_tracer(&opts).is_ok());
        // A JavaScript tracer is refused before anything runs; so is an unknown name.
        let js = TraceOptionsParam::from_param(&serde_json::json!({
            "tracer": "{ step: function() {}, result: function() { return 1; } }"
        }))
        .map(|o| o.0)
        .unwrap_or_default();
        assert!(matches!(check_tracer(&js), Err(TraceRpcError::JsTracer)));
        let unknown = TraceOptionsParam::from_param(&serde_json::json!({ "tracer": "nopeTracer" }))
            .map(|o| o.0)
            .unwrap_or_default();
        assert!(matches!(
            check_tracer(&unknown),
            Err(TraceRpcError::TracerNotFound)
        ));
        // Not an object: refused by name.
        assert!(TraceOptionsParam::from_param(&serde_json::json!(5)).is_err());
        // The call options take overrides beside the tracer's.
        let call = TraceCallOptionsParam::from_param(&serde_json::json!({
            "tracer": "prestateTracer",
            "tracerConfig": { "diffMode": true },
            "stateOverrides": { "0x00000000000000000000000000000000000000aa": { "balance": "0x1" } },
            "blockOverrides": { "number": "0x10" }
        }));
        let Ok(call) = call else {
            panic!("decodes: {call:?}");
        };
        assert_eq!(call.state.len(), 1);
        assert_eq!(call.block.number, Some(16));
        assert!(TraceCallOptionsParam::from_param(&serde_json::json!({ "txIndex": 1 })).is_err());
    }

    #[test]
    fn the_struct_logger_is_capped_unless_the_caller_asks_for_fewer() {
        let Ok((_, imposed)) = bounded_inspector(GethDebugTracingOptions::default()) else {
            panic!("the default tracer builds");
        };
        assert_eq!(imposed, Some(MAX_STRUCT_LOGS));
        let mut asked = GethDebugTracingOptions::default();
        asked.config.limit = Some(10);
        let Ok((_, imposed)) = bounded_inspector(asked) else {
            panic!("the default tracer builds");
        };
        assert_eq!(imposed, None);
        let call = GethDebugTracingOptions::call_tracer(Default::default());
        assert!(matches!(bounded_inspector(call), Ok((_, None))));
    }
}
