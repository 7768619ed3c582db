// Writes schema.graphql from the code. A test fails when the committed file is stale.
import { writeFileSync } from "node:fs";
import { printedSchema } from "../src/api/schema.js";

writeFileSync("schema.graphql", printedSchema());
console.log("wrote schema.graphql");
