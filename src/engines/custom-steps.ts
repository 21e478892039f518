/**
 * The engine actions one component of a `Custom` OpsRequest runs (ADR 0054, pure): its parameters typed and checked
 * against the OpsDefinition's schema, each action's arguments taken from them and checked by the engine action. Used
 * by admission (a bad parameter refused, named) and by the OpsRequest controller (the definition may have changed).
 */
import { actionArguments, actionOfCommand, customParameterValues, type CustomActionStep, type GivenParameter, type OpsDefinition, type ParameterProblem } from "../api/index.ts";
import { engineAccountNames, engineAction } from "./action-arguments.ts";
import type { Engine } from "./types.ts";

/** The steps, in the definition's order, and where they run: the primary when any step runs there alone. */
export interface CustomSteps {
  steps: CustomActionStep[];
  scope: "primary" | "every";
  problems: ParameterProblem[];
}

function problemField(given: readonly GivenParameter[], parameter: string | undefined): string {
  const index = parameter === undefined ? -1 : given.findIndex((g) => g.name === parameter);
  return index === -1 ? "parameters" : `parameters[${index}].value`;
}

/** The steps of `definition` for a component of `engine` with the parameters `given`. */
export function customSteps(definition: OpsDefinition, engine: Engine, given: readonly GivenParameter[]): CustomSteps {
  const { values, problems } = customParameterValues(definition, given);
  const steps: CustomActionStep[] = [];
  let scope: CustomSteps["scope"] = "every";
  const accounts = engineAccountNames(engine);
  for (const action of definition.spec.actions) {
    const name = actionOfCommand(action.exec?.command ?? []) ?? "";
    const found = engineAction(engine, name);
    if (found === undefined) {
      problems.push({ field: "componentName", message: `OpsDefinition ${definition.metadata.name} action ${action.name} (holdfast:${name}) is not an action of engine ${engine.name}` });
      continue;
    }
    const args = actionArguments(action.parameters, values);
    if (problems.length === 0) problems.push(...found.problems(args, accounts).map((p) => ({ field: problemField(given, p.parameter), message: `action ${action.name}: ${p.parameter === undefined ? "" : `${p.parameter} `}${p.message}` })));
    if (found.scope === "primary") scope = "primary";
    steps.push({ action: found.name, arguments: args, ...(action.failurePolicy === undefined ? {} : { failurePolicy: action.failurePolicy }) });
  }
  return { steps, scope, problems };
}
