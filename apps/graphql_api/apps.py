from django.apps import AppConfig


class GraphqlApiConfig(AppConfig):
    name = "apps.graphql_api"
    label = "graphql_api"
