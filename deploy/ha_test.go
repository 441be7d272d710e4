package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestChartHighAvailability: three replicas with Redis render a Deployment
// that upgrades without going below three pods, spreads them softly across
// nodes, a PodDisruptionBudget and the Redis alert.
func TestChartHighAvailability(t *testing.T) {
	helmBin(t)
	base := filepath.Join(ciValuesDir, "default-values.yaml")
	for name, args := range map[string][]string{
		"url": {"--set", "redis.url=redis://redis-master:6379"},
		"secret": {"--set", "redis.existingSecret.name=redis-auth,redis.existingSecret.urlKey=url,redis.existingSecret.passwordKey=password",
			"--set", "redis.caSecret.name=redis-ca,redis.prefix=hk-prod:"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helmTemplate(t, append([]string{"-f", base, "--set", "replicaCount=3,prometheusRule.enabled=true"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			r := decode(t, out)
			checkNoCredentialMaterial(t, r)
			d := r.deployment
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
				t.Errorf("replicas = %v, want 3", d.Spec.Replicas)
			}
			st := d.Spec.Strategy
			if st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil ||
				st.RollingUpdate.MaxUnavailable == nil || st.RollingUpdate.MaxUnavailable.IntValue() != 0 {
				t.Errorf("strategy %+v, want RollingUpdate with maxUnavailable 0", st)
			}
			pod := d.Spec.Template.Spec
			if len(pod.TopologySpreadConstraints) != 1 || pod.TopologySpreadConstraints[0].WhenUnsatisfiable != corev1.ScheduleAnyway ||
				pod.TopologySpreadConstraints[0].TopologyKey != "kubernetes.io/hostname" {
				t.Errorf("topology spread %+v, want one soft (ScheduleAnyway) spread across hostnames", pod.TopologySpreadConstraints)
			}
			if r.pdb == nil || r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
				t.Errorf("PodDisruptionBudget %+v, want one with maxUnavailable 1", r.pdb)
			}
			env := map[string]corev1.EnvVar{}
			for _, e := range pod.Containers[0].Env {
				env[e.Name] = e
			}
			u, ok := env["HOUSEKEEPER_REDIS_URL"]
			switch name {
			case "url":
				if !ok || u.Value != "redis://redis-master:6379" {
					t.Errorf("HOUSEKEEPER_REDIS_URL = %+v", u)
				}
			case "secret":
				if !ok || u.ValueFrom == nil || u.ValueFrom.SecretKeyRef == nil || u.ValueFrom.SecretKeyRef.Key != "url" {
					t.Errorf("HOUSEKEEPER_REDIS_URL = %+v, want it from the Secret's url key", u)
				}
				if env["HOUSEKEEPER_REDIS_PASSWORD_PATH"].Value == "" || env["HOUSEKEEPER_REDIS_CA_FILE"].Value == "" || env["HOUSEKEEPER_REDIS_PREFIX"].Value != "hk-prod:" {
					t.Errorf("password path, CA file, prefix: %+v %+v %+v", env["HOUSEKEEPER_REDIS_PASSWORD_PATH"], env["HOUSEKEEPER_REDIS_CA_FILE"], env["HOUSEKEEPER_REDIS_PREFIX"])
				}
			}
			if r.prometheusRule == nil || len(r.prometheusRule.Spec.Groups) != 1 || !hasRedisAlert(r.prometheusRule) {
				t.Errorf("PrometheusRule %+v, want the Redis-down alert", r.prometheusRule)
			}
		})
	}
}

// TestChartRefusesReplicasWithoutRedis: the refusal says why.
func TestChartRefusesReplicasWithoutRedis(t *testing.T) {
	helmBin(t)
	_, err := helmTemplate(t, "-f", filepath.Join(ciValuesDir, "default-values.yaml"), "--set", "replicaCount=2")
	if err == nil {
		t.Fatal("replicaCount 2 without Redis rendered")
	}
	for _, want := range []string{"replicaCount 2 needs Redis", "redis.url or redis.existingSecret"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not say %q:\n%v", want, err)
		}
	}
	if _, err := helmTemplate(t, "-f", filepath.Join(ciValuesDir, "default-values.yaml"), "--set", "redis.url=redis://:pw@redis:6379"); err == nil {
		t.Error("a password in redis.url rendered; it belongs in redis.existingSecret")
	}
	// A Redis Cluster's seed nodes (docs/deploy.md, *Which Redis*).
	if _, err := helmTemplate(t, "-f", filepath.Join(ciValuesDir, "default-values.yaml"), "--set", "replicaCount=3",
		"--set", `redis.url=redis+cluster://redis-0:6379\,redis-1:6379\,redis-2:6379`); err != nil {
		t.Errorf("a redis+cluster URL was refused: %v", err)
	}
}

func hasRedisAlert(pr *prometheusRule) bool {
	for _, r := range pr.Spec.Groups[0].Rules {
		if r.Alert == "HousekeeperRedisDown" && strings.Contains(r.Expr, "housekeeper_redis_up") {
			return true
		}
	}
	return false
}
