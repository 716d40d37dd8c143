// Names of the DISARM techniques that swarmscope maps its signals to (campaigns/disarm.py MAPPINGS),
// from the packaged DISARM table (data/disarm_techniques.csv, DISARM Foundation, CC BY 4.0), so
// the campaign page can name a technique when the API sends only its id.
export const DISARM = {
  "T0049": {name: "Flood Information Space", tactic: "TA17", signals: ["burst", "run"]},
  "T0049.003": {name: "Bots Amplify via Automated Forwarding and Reposting", tactic: "TA17", signals: ["automation", "coordination"]},
  "T0049.005": {name: "Conduct Swarming", tactic: "TA17", signals: ["coordination"]},
  "T0084.001": {name: "Use Copypasta", tactic: "TA06", signals: ["copypasta"]},
  "T0119.002": {name: "Post across Platform", tactic: "TA17", signals: ["cross_platform_lead"]},
  "T0143.003": {name: "Impersonated Persona", tactic: "TA16", signals: ["impersonation"]},
  "T0146.007": {name: "Automated Account Asset", tactic: "TA15", signals: ["automation"]},
  "T0150.008": {name: "Bulk Created Asset", tactic: "TA15", signals: ["creation_batch", "handle_pattern"]},
};
