"""Solutions to tutorial 1's exercises (tests/test_course.py checks them)."""
import re
from agentgym_nb.core import TextEnv, register
from agentgym_nb.react import InvalidAction, format_react


def policy(observation: str) -> str:
    "Exercise 1: step toward the goal along an axis with no wall in the way; any open side when none is."
    goal_x, goal_y, x, y = [int(n) for n in re.findall(r"\d+", observation)[:4]]
    walls = {side for word, side in [("below", "down"), ("above", "up"), ("right", "right"), ("left", "left")]
             if re.search(r"walls?\b[^.]*\b" + word, observation)}
    toward = [m for m, yes in [("down", goal_x > x), ("up", goal_x < x), ("right", goal_y > y), ("left", goal_y < y)] if yes]
    return "move " + next(m for m in toward + ["down", "right", "up", "left"] if m not in walls)


@register
class CountdownEnv(TextEnv):
    "Exercise 2: say the numbers from N down to 1, one a turn."
    name, title = "countdown", "Countdown"
    instruction = "Count down to 1, one number a turn."
    splits = {"train": range(0, 100), "test": range(100, 120)}
    max_turns = 15

    def _reset(self, item):
        self.next = item % 9 + 1  # the number the agent must say now
        return f"Count down from {self.next}. Say {self.next}."

    def _step(self, action):
        if action.strip() != str(self.next): raise InvalidAction(f"say {self.next}, the next number down")
        self.next -= 1
        if self.next == 0:
            self.success, self.score = True, 1.0
            return "Done: you counted down to 1.", 1.0, True
        return f"Good. Say {self.next}.", 0.0, False

    def expert_action(self):
        n = re.findall(r"\d+", self.observation)[-1]  # the observation ends by naming the number to say
        return format_react(f"The observation asks me to say {n}.", n)
