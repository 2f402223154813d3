//! What a game replicates: a builder that registers components with their encodings (and
//! the input and event layouts, and parameters for clients), and the capture that reads
//! the registered components of every `NetId`-carrying entity into a quantized snapshot
//! once per tick.

use std::sync::Arc;

use hecs::{Archetype, World};
use tickwire_shared::component::{FieldWriter, Replicated};
use tickwire_shared::layout::{EventDef, LayoutField, Prim};
use tickwire_shared::schema::{
    ComponentDef, FieldDef, Param, PositionDef, Schema, SchemaDef, SchemaError,
};
use tickwire_shared::{Entity, NetId, Nums, Relevance, Strs, Tick, WorldSnapshot};

use crate::budget::Priorities;

/// How to capture one registered component, type-erased: whether an archetype has it,
/// and writing its column into the archetype's entities (in row order).
#[derive(Clone, Copy)]
struct CaptureFn {
    /// Whether the archetype stores the component.
    has: fn(&Archetype) -> bool,
    /// Appends each row's fields to the matching entity's value lists.
    write: fn(&Archetype, &[FieldDef], &mut [Entity]),
}

fn has_column<C: hecs::Component>(archetype: &Archetype) -> bool {
    archetype.has::<C>()
}

fn write_column<C: Replicated + hecs::Component>(
    archetype: &Archetype,
    fields: &[FieldDef],
    out: &mut [Entity],
) {
    let Some(column) = archetype.get::<&C>() else {
        return;
    };
    for (c, e) in column.iter().zip(out) {
        let mut w = FieldWriter::new(fields, &mut e.nums, &mut e.strs);
        c.write(&mut w);
        w.finish();
    }
}

/// The replication declaration of a game: build it in `Game::replicate`.
///
/// ```
/// # use tickwire_server::replicate::Replicate;
/// # use tickwire_server::shared::{Prim, Replicated, FieldDef, FieldWriter, FieldReader, Encoding};
/// # struct Position { x: f32, y: f32 }
/// # impl Replicated for Position {
/// #     const NAME: &'static str = "Position";
/// #     fn fields() -> Vec<FieldDef> { vec![FieldDef::new("x", Encoding::fixed(16.0, 0.0, 1e4)), FieldDef::new("y", Encoding::fixed(16.0, 0.0, 1e4))] }
/// #     fn write(&self, w: &mut FieldWriter<'_>) { w.f32(self.x); w.f32(self.y); }
/// #     fn read(r: &mut FieldReader<'_>) -> Self { Position { x: r.f32(), y: r.f32() } }
/// # }
/// let replicate = Replicate::new()
///     .component::<Position>()
///     .position::<Position>("x", "y")
///     .input(&[("buttons", Prim::U8)])
///     .param("width", 800.0);
/// ```
#[derive(Clone, Default)]
pub struct Replicate {
    /// The components so far, with how to capture each.
    components: Vec<(ComponentDef, CaptureFn)>,
    /// Which component holds the position.
    position: Option<PositionDef>,
    /// The input layout.
    input: Vec<LayoutField>,
    /// The event variants.
    events: Vec<EventDef>,
    /// Parameters for clients.
    params: Vec<Param>,
    /// Base priorities under a byte budget, by component name.
    priorities: Vec<(String, f32)>,
    /// The area each client sees around its own entity.
    area: ViewArea,
    /// Components whose entities every client sees, by name.
    relevant: Vec<String>,
    /// The (component, field) whose equal values make teammates.
    team: Option<(String, String)>,
}

/// The area each client sees around its own entity, in world units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ViewArea {
    /// The whole world.
    #[default]
    All,
    /// A circle of this radius.
    Circle(f32),
    /// A rectangle this wide and this high, centred on the entity (a screen).
    Rect(f32, f32),
}

/// How a game's clients see its world, as declared (`Replicate::view_radius`,
/// `view_rect`, `always_relevant`, `team`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GameViews {
    /// The area around each client's own entity.
    pub area: ViewArea,
    /// What is relevant beyond it.
    pub relevant: Relevance,
}

impl std::fmt::Debug for Replicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicate")
            .field(
                "components",
                &self
                    .components
                    .iter()
                    .map(|(d, _)| &d.name)
                    .collect::<Vec<_>>(),
            )
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl Replicate {
    /// Nothing registered yet.
    #[must_use]
    pub fn new() -> Replicate {
        Replicate::default()
    }

    /// Replicates component `C` of every entity that has it (and a `NetId`). Order of
    /// registration is the order on the wire: register the components that change most
    /// often first, so their field masks stay one byte.
    #[must_use]
    pub fn component<C: Replicated + hecs::Component>(mut self) -> Replicate {
        let capture = CaptureFn {
            has: has_column::<C>,
            write: write_column::<C>,
        };
        self.components.push((C::def(), capture));
        self
    }

    /// Declares where entities are: component `C`'s fields `x` and `y` (registered with
    /// `component`). Interest management (`view_radius`) and generic renderers use it.
    #[must_use]
    pub fn position<C: Replicated>(mut self, x: &str, y: &str) -> Replicate {
        self.position = Some(PositionDef {
            component: C::NAME.to_owned(),
            x: x.to_owned(),
            y: y.to_owned(),
        });
        self
    }

    /// Declares the input layout: the fields of `Game::Input`, in order, with their types.
    #[must_use]
    pub fn input(mut self, fields: &[(&str, Prim)]) -> Replicate {
        self.input = fields
            .iter()
            .map(|(n, p)| LayoutField::new(n, *p))
            .collect();
        self
    }

    /// Declares the event layout: the variants of `Game::Event`, in order.
    #[must_use]
    pub fn events(mut self, events: Vec<EventDef>) -> Replicate {
        self.events = events;
        self
    }

    /// Shows each client only what lies within `radius` world units of its own entity
    /// (by the position, `Replicate::position`), plus what `always_relevant` and `team`
    /// add. The `view_radius` setting, when not 0, overrides the game's area.
    #[must_use]
    pub fn view_radius(mut self, radius: f32) -> Replicate {
        self.area = ViewArea::Circle(radius);
        self
    }

    /// Shows each client only what lies in a `width` × `height` rectangle (world units)
    /// centred on its own entity: a screen's worth.
    #[must_use]
    pub fn view_rect(mut self, width: f32, height: f32) -> Replicate {
        self.area = ViewArea::Rect(width, height);
        self
    }

    /// Every client sees the entities with component `C` (registered with `component`)
    /// wherever they are: the ball, the flags, a boss.
    #[must_use]
    pub fn always_relevant<C: Replicated>(mut self) -> Replicate {
        self.relevant.push(C::NAME.to_owned());
        self
    }

    /// Every client sees the entities whose numeric `field` of component `C` equals its
    /// own entity's, wherever they are: its teammates.
    #[must_use]
    pub fn team<C: Replicated>(mut self, field: &str) -> Replicate {
        self.team = Some((C::NAME.to_owned(), field.to_owned()));
        self
    }

    /// Gives entities with component `C` (registered with `component`) base priority
    /// `weight` when a client's byte budget makes changes wait (1 for every component
    /// not named; an entity takes its highest component's). A ball or a teammate might
    /// weigh 10, scenery 0.2.
    #[must_use]
    pub fn priority<C: Replicated>(mut self, weight: f32) -> Replicate {
        self.priorities.push((C::NAME.to_owned(), weight));
        self
    }

    /// Tells every client a named number (world size, a speed for prediction, …).
    #[must_use]
    pub fn param(mut self, name: &str, value: f64) -> Replicate {
        self.params.push(Param {
            name: name.to_owned(),
            value,
        });
        self
    }

    /// Checks the declaration and splits it into the schema (for clients) and the
    /// capture (for the tick thread).
    pub fn build(self, game: &str) -> Result<Capture, SchemaError> {
        let (defs, fns): (Vec<_>, Vec<_>) = self.components.into_iter().unzip();
        let sizes = match self.area {
            ViewArea::All => vec![],
            ViewArea::Circle(r) => vec![r],
            ViewArea::Rect(w, h) => vec![w, h],
        };
        if sizes.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
            return Err(SchemaError::BadView(
                "a view's size must be finite and above 0".into(),
            ));
        }
        if !sizes.is_empty() && self.position.is_none() {
            return Err(SchemaError::BadView(
                "a view area needs the position (Replicate::position)".into(),
            ));
        }
        let mut weights = vec![1.0; defs.len()];
        for (name, weight) in &self.priorities {
            let bad = |why| SchemaError::BadPriority {
                component: name.clone(),
                why,
            };
            let Some(c) = defs.iter().position(|d| &d.name == name) else {
                return Err(bad("the component is not registered"));
            };
            // A weight of 0 would never grow, so the entity would wait for ever.
            if !(weight.is_finite() && *weight > 0.0) {
                return Err(bad("a weight must be finite and above 0"));
            }
            weights[c] = *weight;
        }
        let schema = Schema::new(SchemaDef {
            game: game.to_owned(),
            components: defs,
            position: self.position,
            input: self.input,
            events: self.events,
            params: self.params,
        })?;
        let views = GameViews {
            area: self.area,
            relevant: relevance(&schema, &self.relevant, self.team.as_ref())?,
        };
        Ok(Capture {
            schema: Arc::new(schema),
            fns,
            priorities: Arc::new(Priorities::new(weights)),
            views,
        })
    }
}

/// The relevance named by component (and field) names, checked against `schema`.
fn relevance(
    schema: &Schema,
    relevant: &[String],
    team: Option<&(String, String)>,
) -> Result<Relevance, SchemaError> {
    let index = |name: &str| {
        (0..schema.component_count())
            .find(|&c| schema.component(c).is_some_and(|d| d.name == name))
            .ok_or_else(|| SchemaError::BadView(format!("{name} is not a registered component")))
    };
    let mut components = 0u64;
    for name in relevant {
        components |= 1 << index(name)?;
    }
    let group = match team {
        None => None,
        Some((component, field)) => {
            let c = index(component)?;
            let fields = &schema.component(c).map_or(&[][..], |d| d.fields.as_slice());
            let at = fields.iter().position(|f| &f.name == field);
            match at.map(|i| schema.slots(c)[i]) {
                Some((false, value)) => Some((c as u8, value as u8)),
                _ => {
                    return Err(SchemaError::BadView(format!(
                        "the team field {component}.{field} is not a numeric field of it"
                    )));
                }
            }
        }
    };
    Ok(Relevance { components, group })
}

/// Reads the world into snapshots by a checked schema.
#[derive(Clone)]
pub struct Capture {
    /// The schema clients are sent.
    schema: Arc<Schema>,
    /// One capture function per component, in schema order.
    fns: Vec<CaptureFn>,
    /// Base priorities per component, in schema order.
    priorities: Arc<Priorities>,
    /// How clients see the world.
    views: GameViews,
}

impl Capture {
    /// The schema.
    #[must_use]
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The base priorities of the components.
    pub(crate) fn priorities(&self) -> &Arc<Priorities> {
        &self.priorities
    }

    /// How the game's clients see its world.
    #[must_use]
    pub fn views(&self) -> GameViews {
        self.views
    }

    /// The quantized snapshot of every entity with a `NetId`, sorted by id. Entities
    /// with a `NetId` but no registered component are replicated as bare ids.
    ///
    /// Works archetype by archetype: which registered components an archetype has is
    /// asked once, each component's column is borrowed once, and an entity's values go
    /// inside it (or, past `INLINE_NUMS`, to one allocation of their exact size).
    #[must_use]
    pub fn capture(&self, world: &World, tick: Tick) -> WorldSnapshot {
        let mut entities = Vec::with_capacity(world.len() as usize);
        for archetype in world.archetypes() {
            let Some(ids) = archetype.get::<&NetId>() else {
                continue;
            };
            if ids.is_empty() {
                continue;
            }
            let mask = self
                .fns
                .iter()
                .enumerate()
                .filter(|(_, f)| (f.has)(archetype))
                .fold(0u64, |m, (c, _)| m | 1 << c);
            let (nums, strs) = self.schema.value_counts(mask);
            let start = entities.len();
            entities.extend(ids.iter().map(|&id| Entity {
                id,
                components: mask,
                nums: Nums::with_capacity(nums),
                strs: Strs::with_capacity(strs),
            }));
            for (c, f) in self.fns.iter().enumerate() {
                if mask & (1 << c) != 0 {
                    let fields = self.schema.component(c).map_or(&[][..], |d| &d.fields);
                    (f.write)(archetype, fields, &mut entities[start..]);
                }
            }
        }
        entities.sort_unstable_by_key(|e: &Entity| e.id);
        WorldSnapshot { tick, entities }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_shared::component::FieldReader;
    use tickwire_shared::schema::Encoding;

    #[derive(Debug, PartialEq)]
    struct Pos(f32);
    impl Replicated for Pos {
        const NAME: &'static str = "Pos";
        fn fields() -> Vec<FieldDef> {
            vec![FieldDef::new("x", Encoding::fixed(2.0, -10.0, 10.0))]
        }
        fn write(&self, w: &mut FieldWriter<'_>) {
            w.f32(self.0);
        }
        fn read(r: &mut FieldReader<'_>) -> Self {
            Pos(r.f32())
        }
    }
    struct Marker;
    impl Replicated for Marker {
        const NAME: &'static str = "Marker";
        fn fields() -> Vec<FieldDef> {
            vec![]
        }
        fn write(&self, _: &mut FieldWriter<'_>) {}
        fn read(_: &mut FieldReader<'_>) -> Self {
            Marker
        }
    }

    #[test]
    fn capture_reads_registered_components_of_net_entities_only() {
        let cap = Replicate::new()
            .component::<Pos>()
            .component::<Marker>()
            .build("t")
            .unwrap();
        let mut world = World::new();
        world.spawn((NetId(5), Pos(1.26)));
        world.spawn((NetId(2), Marker, Pos(-20.0)));
        world.spawn((Pos(3.0),));
        world.spawn((NetId(9),));
        let snap = cap.capture(&world, Tick(4));
        let got: Vec<_> = snap
            .entities
            .iter()
            .map(|e| (e.id.0, e.components, e.nums.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(2, 0b11, vec![-20]), (5, 0b01, vec![3]), (9, 0, vec![])]
        );
    }

    #[test]
    fn a_position_on_an_unregistered_component_is_refused() {
        let err = Replicate::new().position::<Pos>("x", "y").build("t");
        assert!(matches!(err, Err(SchemaError::BadPosition(_))));
    }

    #[test]
    fn priorities_name_registered_components_with_sane_weights() {
        let cap = Replicate::new()
            .component::<Pos>()
            .component::<Marker>()
            .priority::<Marker>(3.0)
            .build("t")
            .unwrap();
        assert_eq!(cap.priorities().base(0b01), 1.0);
        assert_eq!(cap.priorities().base(0b11), 3.0);
        let unknown = Replicate::new().priority::<Pos>(2.0).build("t");
        assert!(matches!(unknown, Err(SchemaError::BadPriority { .. })));
        for weight in [-1.0, 0.0, f32::NAN] {
            let bad = Replicate::new()
                .component::<Pos>()
                .priority::<Pos>(weight)
                .build("t");
            assert!(
                matches!(bad, Err(SchemaError::BadPriority { .. })),
                "{weight}"
            );
        }
    }

    #[test]
    fn views_name_registered_components_and_numeric_team_fields() {
        struct Name;
        impl Replicated for Name {
            const NAME: &'static str = "Name";
            fn fields() -> Vec<FieldDef> {
                vec![FieldDef::new("n", Encoding::string(8))]
            }
            fn write(&self, w: &mut FieldWriter<'_>) {
                w.str(&Arc::from("x"));
            }
            fn read(_: &mut FieldReader<'_>) -> Self {
                Name
            }
        }
        let ok = Replicate::new()
            .component::<Pos>()
            .component::<Marker>()
            .position::<Pos>("x", "x")
            .view_rect(800.0, 600.0)
            .always_relevant::<Marker>()
            .build("t")
            .unwrap();
        assert_eq!(ok.views().area, ViewArea::Rect(800.0, 600.0));
        assert_eq!(ok.views().relevant.components, 0b10);
        let bad = |r: Replicate| matches!(r.build("t"), Err(SchemaError::BadView(_)));
        assert!(
            bad(Replicate::new().component::<Pos>().view_radius(100.0)),
            "no position"
        );
        assert!(bad(Replicate::new()
            .component::<Pos>()
            .position::<Pos>("x", "x")
            .view_radius(0.0)));
        assert!(bad(Replicate::new()
            .component::<Pos>()
            .always_relevant::<Marker>()));
        assert!(
            bad(Replicate::new()
                .component::<Pos>()
                .component::<Name>()
                .team::<Name>("n")),
            "a string is no team"
        );
    }
}
