//! The Kubernetes deployment in `server/deploy/`, checked without a cluster.
//!
//! `kubectl apply --dry-run=client` cannot check these files here: it asks an API
//! server for the kinds it does not know (the Agones CRDs), and none runs on this
//! machine. So each manifest is held to the shape of its kind instead: the fields and
//! values that Agones 1.x's `Fleet` (agones.dev/v1) and `FleetAutoscaler`
//! (autoscaling.agones.dev/v1) CRDs define, and those of the core kinds used beside
//! them. Agones's CRDs are structural, so the API server would silently drop a misspelt
//! or misplaced key; here it fails, as do a wrong type, an enum value Agones does not
//! know and a missing required field. Then the files are held to each other and to the
//! server: the game server's arguments parse with tickwire's own command line into a
//! valid configuration with Agones and the room directory on, the ports, names and
//! labels that refer to each other match, and the timings fit (Health pings well
//! inside Agones's health period, the drain inside the pod's grace period).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;
use serde_yaml::Value;
use tickwire_server::cli::Cli;

/// What a value must look like.
enum Shape {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// An integer or a string (`targetPort`, a percentage).
    IntOrStr,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A list of values of one shape.
    List(Box<Shape>),
    /// A map of strings to strings (labels, resource quantities as strings or numbers).
    StrMap,
    /// An object: its known keys (with `true` when required), and whether keys beyond
    /// them are allowed (the parts of a pod spec this test does not model).
    Obj(Vec<(&'static str, bool, Shape)>, Open),
    /// Anything (a part neither side models).
    Any,
}

/// Whether an object takes keys it does not list.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Closed,
    Open,
}

use Shape::{Any, Bool, Int, IntOrStr, List, OneOf, Str, StrMap};

fn obj(fields: Vec<(&'static str, bool, Shape)>) -> Shape {
    Shape::Obj(fields, Open::Closed)
}

fn open(fields: Vec<(&'static str, bool, Shape)>) -> Shape {
    Shape::Obj(fields, Open::Open)
}

fn list(shape: Shape) -> Shape {
    List(Box::new(shape))
}

/// `metadata` of any object.
fn object_meta() -> Shape {
    obj(vec![
        ("name", false, Str),
        ("generateName", false, Str),
        ("namespace", false, Str),
        ("labels", false, StrMap),
        ("annotations", false, StrMap),
    ])
}

/// A probe (readiness or liveness).
fn probe() -> Shape {
    obj(vec![
        (
            "httpGet",
            false,
            obj(vec![("path", false, Str), ("port", true, IntOrStr)]),
        ),
        ("tcpSocket", false, obj(vec![("port", true, IntOrStr)])),
        ("initialDelaySeconds", false, Int),
        ("periodSeconds", false, Int),
        ("timeoutSeconds", false, Int),
        ("failureThreshold", false, Int),
        ("successThreshold", false, Int),
    ])
}

/// A core `PodTemplateSpec`, as far as these manifests use it.
fn pod_template() -> Shape {
    let container = obj(vec![
        ("name", true, Str),
        ("image", true, Str),
        (
            "imagePullPolicy",
            false,
            OneOf(&["Always", "IfNotPresent", "Never"]),
        ),
        ("command", false, list(Str)),
        ("args", false, list(Str)),
        ("env", false, list(Any)),
        (
            "ports",
            false,
            list(obj(vec![
                ("name", false, Str),
                ("containerPort", true, Int),
                ("protocol", false, OneOf(&["TCP", "UDP", "SCTP"])),
            ])),
        ),
        ("readinessProbe", false, probe()),
        ("livenessProbe", false, probe()),
        (
            "resources",
            false,
            obj(vec![("requests", false, StrMap), ("limits", false, StrMap)]),
        ),
    ]);
    obj(vec![
        ("metadata", false, object_meta()),
        (
            "spec",
            true,
            open(vec![
                ("containers", true, list(container)),
                ("terminationGracePeriodSeconds", false, Int),
                ("serviceAccountName", false, Str),
            ]),
        ),
    ])
}

/// Agones's `GameServerSpec` (the Fleet's template spec).
fn gameserver_spec() -> Shape {
    let port = obj(vec![
        ("name", false, Str),
        (
            "portPolicy",
            false,
            OneOf(&["Dynamic", "Static", "Passthrough", "None"]),
        ),
        ("container", false, Str),
        ("containerPort", false, Int),
        ("hostPort", false, Int),
        ("protocol", false, OneOf(&["UDP", "TCP", "TCPUDP"])),
        ("range", false, Str),
    ]);
    obj(vec![
        ("container", false, Str),
        ("ports", false, list(port)),
        (
            "health",
            false,
            obj(vec![
                ("disabled", false, Bool),
                ("periodSeconds", false, Int),
                ("failureThreshold", false, Int),
                ("initialDelaySeconds", false, Int),
            ]),
        ),
        ("scheduling", false, OneOf(&["Packed", "Distributed"])),
        (
            "sdkServer",
            false,
            obj(vec![
                (
                    "logLevel",
                    false,
                    OneOf(&["Info", "Debug", "Error", "Trace"]),
                ),
                ("grpcPort", false, Int),
                ("httpPort", false, Int),
            ]),
        ),
        ("players", false, obj(vec![("initialCapacity", false, Int)])),
        ("counters", false, Any),
        ("lists", false, Any),
        (
            "eviction",
            false,
            obj(vec![(
                "safe",
                false,
                OneOf(&["Always", "OnUpgrade", "Never"]),
            )]),
        ),
        ("immutableReplicas", false, Int),
        ("template", true, pod_template()),
    ])
}

/// Agones's `Fleet` spec.
fn fleet_spec() -> Shape {
    obj(vec![
        ("replicas", false, Int),
        ("allocationOverflow", false, Any),
        ("scheduling", false, OneOf(&["Packed", "Distributed"])),
        (
            "strategy",
            false,
            obj(vec![
                ("type", false, OneOf(&["Recreate", "RollingUpdate"])),
                (
                    "rollingUpdate",
                    false,
                    obj(vec![
                        ("maxSurge", false, IntOrStr),
                        ("maxUnavailable", false, IntOrStr),
                    ]),
                ),
            ]),
        ),
        ("priorities", false, Any),
        ("counters", false, Any),
        ("lists", false, Any),
        (
            "template",
            true,
            obj(vec![
                ("metadata", false, object_meta()),
                ("spec", true, gameserver_spec()),
            ]),
        ),
    ])
}

/// Agones's `FleetAutoscaler` spec.
fn fleet_autoscaler_spec() -> Shape {
    obj(vec![
        ("fleetName", true, Str),
        (
            "policy",
            true,
            obj(vec![
                (
                    "type",
                    true,
                    OneOf(&["Buffer", "Webhook", "Counter", "List", "Schedule", "Chain"]),
                ),
                (
                    "buffer",
                    false,
                    obj(vec![
                        ("bufferSize", true, IntOrStr),
                        ("minReplicas", false, Int),
                        ("maxReplicas", true, Int),
                    ]),
                ),
                ("webhook", false, Any),
                ("counter", false, Any),
                ("list", false, Any),
                ("schedule", false, Any),
                ("chain", false, Any),
            ]),
        ),
        (
            "sync",
            false,
            obj(vec![
                ("type", false, OneOf(&["FixedInterval"])),
                ("fixedInterval", false, obj(vec![("seconds", true, Int)])),
            ]),
        ),
    ])
}

/// A core `Service` spec.
fn service_spec() -> Shape {
    obj(vec![
        (
            "type",
            false,
            OneOf(&["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
        ),
        ("selector", false, StrMap),
        ("externalTrafficPolicy", false, OneOf(&["Cluster", "Local"])),
        ("sessionAffinity", false, OneOf(&["None", "ClientIP"])),
        (
            "ports",
            true,
            list(obj(vec![
                ("name", false, Str),
                ("port", true, Int),
                ("targetPort", false, IntOrStr),
                ("protocol", false, OneOf(&["TCP", "UDP", "SCTP"])),
                ("nodePort", false, Int),
            ])),
        ),
    ])
}

/// An `apps/v1` `Deployment` spec.
fn deployment_spec() -> Shape {
    obj(vec![
        ("replicas", false, Int),
        ("selector", true, obj(vec![("matchLabels", true, StrMap)])),
        ("template", true, pod_template()),
    ])
}

/// The whole object of a kind this deployment may use, or `None` for another kind.
fn shape_of(api_version: &str, kind: &str) -> Option<Shape> {
    let spec = match (api_version, kind) {
        ("agones.dev/v1", "Fleet") => fleet_spec(),
        ("autoscaling.agones.dev/v1", "FleetAutoscaler") => fleet_autoscaler_spec(),
        ("v1", "Service") => service_spec(),
        ("apps/v1", "Deployment") => deployment_spec(),
        _ => return None,
    };
    Some(obj(vec![
        ("apiVersion", true, Str),
        ("kind", true, Str),
        ("metadata", true, object_meta()),
        ("spec", true, spec),
    ]))
}

/// Every way `value` at `path` departs from `shape`, added to `problems`.
fn check(value: &Value, shape: &Shape, path: &str, problems: &mut Vec<String>) {
    let mut wrong = |what: &str| problems.push(format!("{path}: {what}, found {value:?}"));
    match shape {
        Any => {}
        Str => {
            if !value.is_string() {
                wrong("a string");
            }
        }
        Int => {
            if !value.is_i64() {
                wrong("an integer");
            }
        }
        Bool => {
            if !value.is_bool() {
                wrong("a boolean");
            }
        }
        IntOrStr => {
            if !(value.is_i64() || value.is_string()) {
                wrong("an integer or a string");
            }
        }
        OneOf(allowed) => {
            if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
                wrong(&format!("one of {allowed:?}"));
            }
        }
        StrMap => match value.as_mapping() {
            Some(map) => {
                for (k, v) in map {
                    if !k.is_string() || !(v.is_string() || v.is_number()) {
                        problems.push(format!("{path}: {k:?}: {v:?} is not a string entry"));
                    }
                }
            }
            None => wrong("a map of strings"),
        },
        List(item) => match value.as_sequence() {
            Some(items) => {
                for (i, v) in items.iter().enumerate() {
                    check(v, item, &format!("{path}[{i}]"), problems);
                }
            }
            None => wrong("a list"),
        },
        Shape::Obj(fields, openness) => {
            let Some(map) = value.as_mapping() else {
                wrong("an object");
                return;
            };
            for (name, required, shape) in fields {
                match map.get(*name) {
                    Some(v) => check(v, shape, &format!("{path}.{name}"), problems),
                    None if *required => problems.push(format!("{path}.{name}: required")),
                    None => {}
                }
            }
            if *openness == Open::Closed {
                for key in map.keys() {
                    let known = key
                        .as_str()
                        .is_some_and(|k| fields.iter().any(|(name, ..)| *name == k));
                    if !known {
                        problems.push(format!("{path}: unknown field {key:?}"));
                    }
                }
            }
        }
    }
}

/// The deployment's directory.
fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/deploy")
}

/// Every manifest document in the deployment, with the file it came from.
fn manifests() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .unwrap_or_else(|e| panic!("server/deploy: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                docs.push((name.clone(), value));
            }
        }
    }
    docs
}

/// The one object of `kind` named `name`.
fn find<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| {
            d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {kind} named {name}");
    found[0]
}

/// A value's string map (labels, a selector).
fn str_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether every entry of `selector` is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let (selector, labels) = (str_map(selector), str_map(labels));
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn int(value: &Value, what: &str) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: {value:?} is not an integer"))
}

#[test]
fn every_manifest_has_the_shape_of_its_kind() {
    let docs = manifests();
    let kinds: Vec<String> = docs
        .iter()
        .map(|(_, d)| d["kind"].as_str().unwrap_or("?").to_owned())
        .collect();
    for kind in ["Fleet", "FleetAutoscaler", "Service", "Deployment"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} in server/deploy: {kinds:?}"
        );
    }
    let mut problems = Vec::new();
    for (file, doc) in &docs {
        let (api, kind) = (
            doc["apiVersion"].as_str().unwrap_or_default(),
            doc["kind"].as_str().unwrap_or_default(),
        );
        let Some(shape) = shape_of(api, kind) else {
            problems.push(format!(
                "{file}: {api} {kind} is not a kind this deployment uses"
            ));
            continue;
        };
        check(doc, &shape, &format!("{file}: {kind}"), &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_refuses_what_the_api_server_would_drop_or_refuse() {
    // The same check, on a Fleet with a misspelt key, a wrong type, an unknown port
    // policy and an autoscaler without its required maximum.
    let bad = r"
apiVersion: agones.dev/v1
kind: Fleet
metadata: {name: x}
spec:
  replicas: three
  template:
    spec:
      ports: [{name: default, portPolicy: Dinamic, containerPort: 7777}]
      helth: {periodSeconds: 5}
      template: {spec: {containers: [{name: a, image: b}]}}
";
    let doc: Value = serde_yaml::from_str(bad).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    let shape = shape_of("agones.dev/v1", "Fleet").unwrap_or_else(|| panic!("no Fleet shape"));
    check(&doc, &shape, "Fleet", &mut problems);
    let text = problems.join("\n");
    assert!(text.contains("spec.replicas: an integer"), "{text}");
    assert!(text.contains("portPolicy: one of"), "{text}");
    assert!(text.contains("unknown field String(\"helth\")"), "{text}");
    let scaler: Value = serde_yaml::from_str(
        "apiVersion: autoscaling.agones.dev/v1\nkind: FleetAutoscaler\nmetadata: {name: x}\n\
         spec: {fleetName: x, policy: {type: Buffer, buffer: {bufferSize: 2}}}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    let shape = shape_of("autoscaling.agones.dev/v1", "FleetAutoscaler")
        .unwrap_or_else(|| panic!("no FleetAutoscaler shape"));
    check(&scaler, &shape, "FleetAutoscaler", &mut problems);
    assert_eq!(
        problems,
        ["FleetAutoscaler.spec.policy.buffer.maxReplicas: required"]
    );
}

#[test]
fn the_manifests_agree_with_each_other_and_with_the_server() {
    let docs = manifests();
    let fleet = find(&docs, "Fleet", "tickwire");
    let gs = &fleet["spec"]["template"]["spec"];
    let pod = &gs["template"];
    let containers = pod["spec"]["containers"]
        .as_sequence()
        .unwrap_or_else(|| panic!("the fleet's pod has no containers"));
    let container_name = gs["container"].as_str().unwrap_or("tickwire");
    let server = containers
        .iter()
        .find(|c| c["name"].as_str() == Some(container_name))
        .unwrap_or_else(|| panic!("no container {container_name} in the fleet's pod"));

    // The arguments are the server's own command line: parsed and validated by it.
    let args: Vec<&str> = server["args"]
        .as_sequence()
        .unwrap_or_else(|| panic!("the game server has no args"))
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap_or_else(|| panic!("arg {a:?} is not a string"))
        })
        .collect();
    let cli = Cli::try_parse_from(std::iter::once("tickwire").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("the fleet's args do not parse: {e}"));
    let config = cli
        .engine
        .to_config()
        .unwrap_or_else(|e| panic!("the fleet's args are not a valid configuration: {e}"));
    assert!(config.agones, "the fleet's servers must run with --agones");
    assert_eq!(
        config.bind.to_string(),
        "0.0.0.0",
        "reachable from outside the pod"
    );
    assert!(
        config.drain_secs > 0,
        "SIGTERM must drain, not cut players off"
    );

    // The game server port is the port tickwire listens on.
    let port = &gs["ports"][0];
    assert_eq!(
        int(&port["containerPort"], "containerPort"),
        i64::from(config.port)
    );
    assert_eq!(port["protocol"].as_str(), Some("TCP"), "WebSocket is TCP");
    let http_port = server["ports"]
        .as_sequence()
        .and_then(|ps| ps.iter().find(|p| p["name"].as_str() == Some("http")))
        .unwrap_or_else(|| panic!("the game server container names no http port"));
    assert_eq!(
        int(&http_port["containerPort"], "http port"),
        i64::from(config.port)
    );

    // Health pings (every agones_health_secs) well within Agones's health period, and
    // the drain within the pod's grace period.
    let period = int(&gs["health"]["periodSeconds"], "health.periodSeconds");
    assert!(
        i64::try_from(config.agones_health_secs).unwrap_or(i64::MAX) * 2 <= period,
        "--agones-health-secs {} is too close to Agones's health period {period}",
        config.agones_health_secs
    );
    let grace = int(
        &pod["spec"]["terminationGracePeriodSeconds"],
        "terminationGracePeriodSeconds",
    );
    assert!(
        i64::try_from(config.drain_secs).unwrap_or(i64::MAX) + 10 <= grace,
        "--drain-secs {} leaves no room within the pod's grace period {grace}",
        config.drain_secs
    );

    // The room directory is the Redis this deployment runs.
    let redis_url = config
        .redis_url
        .as_deref()
        .unwrap_or_else(|| panic!("the fleet's servers need --redis-url"));
    let redis_service = find(&docs, "Service", "tickwire-redis");
    let redis_port = int(&redis_service["spec"]["ports"][0]["port"], "redis port");
    assert!(
        redis_url.starts_with(&format!("redis://tickwire-redis:{redis_port}/")),
        "--redis-url {redis_url} is not the tickwire-redis Service"
    );
    let redis = find(&docs, "Deployment", "tickwire-redis");
    let redis_labels = &redis["spec"]["template"]["metadata"]["labels"];
    assert!(selects(
        &redis["spec"]["selector"]["matchLabels"],
        redis_labels
    ));
    assert!(selects(&redis_service["spec"]["selector"], redis_labels));

    // The autoscaler scales this fleet; the matchmaker reaches its game servers.
    let scaler = find(&docs, "FleetAutoscaler", "tickwire");
    assert_eq!(scaler["spec"]["fleetName"].as_str(), Some("tickwire"));
    let buffer = &scaler["spec"]["policy"]["buffer"];
    assert!(
        int(&buffer["minReplicas"], "minReplicas") <= int(&buffer["maxReplicas"], "maxReplicas")
    );
    let matchmaker = find(&docs, "Service", "tickwire-matchmaker");
    assert!(
        selects(&matchmaker["spec"]["selector"], &pod["metadata"]["labels"]),
        "the matchmaker Service selects no game server pod"
    );
    assert_eq!(
        matchmaker["spec"]["sessionAffinity"].as_str(),
        Some("ClientIP"),
        "a page that reconnects through the matchmaker must reach its own game server to resume"
    );
    assert_eq!(
        matchmaker["spec"]["ports"][0]["targetPort"].as_str(),
        Some("http"),
        "the matchmaker forwards to the game server's http port"
    );

    // The image is built with Agones support and serves the same port.
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile"))
        .unwrap_or_else(|e| panic!("server/deploy/Dockerfile: {e}"));
    assert!(
        dockerfile.contains("--features agones"),
        "the image needs Agones support"
    );
    assert!(
        dockerfile.contains(&format!("EXPOSE {}", config.port)),
        "the image exposes another port"
    );
}
