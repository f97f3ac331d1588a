import { Duration, Effect, Schedule } from "effect"
import { makeRng, type Scenario, trafficTick } from "../OpenRouter/Simulator.js"

/** Live traffic on the simulator, so the demo's numbers keep growing while it runs. */
export const demoTraffic = (scenario: Scenario, every: Duration.DurationInput = Duration.seconds(3)) => {
  const rng = makeRng(Date.now() & 0xffff)
  const share = Duration.toMillis(Duration.decode(every)) / 86_400_000
  return Effect.sync(() => trafficTick(scenario, rng, new Date(), share)).pipe(Effect.repeat(Schedule.spaced(every)))
}
