"""One ``transitions`` machine for the whole process, built once from the flow.

The flow's states and options become the machine's states and transitions, so
``transitions`` is the single arbiter of which moves are legal. Sessions never
become models: attaching a model costs hundreds of microseconds and binds tens
of kilobytes onto it (measured on transitions 0.9.3), which would dwarf the
work of a message. Instead one :class:`_Cursor` is the machine's only model;
for each move the engine sets the cursor to the session's state, fires the
trigger, and reads the new state back. The synchronous ``Machine`` is used
because the core does no I/O and has nothing to await.

Not thread-safe: one event loop thread drives the engine, and a move is a
plain synchronous call with no await inside it.
"""

from __future__ import annotations

from transitions import Machine, MachineError, Transition

from bot.conversation.flow import Flow

# Triggers that work from every state.
MENU, END, RESTART, WITHDRAW = "menu", "end", "restart", "withdraw"


class IllegalMove(RuntimeError):
    """A trigger that the flow does not allow from the current state."""

    def __init__(self, state: str, trigger: str) -> None:
        super().__init__(f"no move {trigger!r} from state {state!r}")
        self.state, self.trigger = state, trigger


class _Move(Transition):
    """A transition as our flows have them: no conditions, no callbacks, just a change of state.

    ``transitions`` runs prepare, condition, before, exit, enter and after
    callbacks, with a debug log line at each, on every trigger; that costs about
    26 microseconds of a 50 microsecond budget per message, for hooks the flow
    never uses. This class is the library's own extension point
    (``Machine.transition_cls``) for exactly that; legality (which trigger may
    fire from which state) is still decided by the machine.
    """

    def execute(self, event_data) -> bool:
        event_data.machine.set_state(self.dest, event_data.model)
        return True


class _FlowTransitions(Machine):
    transition_cls = _Move


class _Cursor:
    """The machine's only model: carries one session's state for one move."""

    def __init__(self, state: str) -> None:
        self.state = state


def option_trigger(option_id: str) -> str:
    return f"opt:{option_id}"


def stale_trigger(option_id: str) -> str:
    return f"stale:{option_id}"


def outcome_trigger(result: str) -> str:
    return f"outcome:{result}"


class FlowMachine:
    """The flow as a ``transitions.Machine``: states, options, back, input, outcomes."""

    INPUT, BACK = "input", "back"

    def __init__(self, flow: Flow, stale_sources: tuple[str, ...] = ()) -> None:
        self._cursor = _Cursor(flow.start)
        self.machine = _FlowTransitions(
            model=self._cursor,
            states=list(flow.states),
            initial=flow.start,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=False,
        )
        add = self.machine.add_transition
        for state in flow.states.values():
            for option in state.options:
                add(option_trigger(option.id), state.id, option.to)
            add(self.BACK, state.id, state.back or flow.menu)
            if state.input and state.next:
                add(self.INPUT, state.id, state.next)
            for result, target in state.outcomes.items():
                add(outcome_trigger(result), state.id, target)
        add(MENU, "*", flow.menu)
        add(END, "*", "end")
        add(RESTART, "*", flow.start)
        if "callback_withdraw" in flow.states:
            add(WITHDRAW, "*", "callback_withdraw")
        # A button pressed on an older message (after the state moved on, or after
        # the chat ended) still works if it belongs to one of these states.
        for sid in stale_sources:
            for option in flow.states[sid].options:
                add(stale_trigger(option.id), "*", option.to)
        self._events = self.machine.events

    def can(self, state: str, trigger: str) -> bool:
        event = self._events.get(trigger)
        return event is not None and state in event.transitions

    def move(self, state: str, trigger: str) -> str:
        """The state reached from ``state`` by ``trigger``. Raises IllegalMove."""
        event = self._events.get(trigger)
        if event is None:
            raise IllegalMove(state, trigger)
        cursor = self._cursor
        cursor.state = state
        try:
            event.trigger(cursor)
        except MachineError:
            raise IllegalMove(state, trigger) from None
        return cursor.state
